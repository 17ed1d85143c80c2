use parallel::parallel;

fn connect() {}

#[parallel(initializer = connect)]
fn query(sql: String) -> String {
    sql
}

fn main() {}
