use parallel::parallel;

fn connect() {}

#[parallel(initializer = connect)]
fn query(sql: String) -> String {
    sql
}

// The mistake is reported once, at the attribute: callers see the signature they expect.
fn main() {
    let _ = query(String::new()).result();
    let _ = query::sync(String::new());
}
