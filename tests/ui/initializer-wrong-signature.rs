use parallel::parallel;

fn connect(_url: String) {}

#[parallel(threads = 2, initializer = connect)]
fn query(sql: String) -> String {
    sql
}

// The mistake is reported once, at the attribute: callers see the signature they expect.
fn main() {
    let _ = query(String::new()).result();
    let _ = query::sync(String::new());
}
