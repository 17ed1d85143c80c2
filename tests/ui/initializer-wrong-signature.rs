use parallel::parallel;

fn connect(_url: String) {}

#[parallel(threads = 2, initializer = connect)]
fn query(sql: String) -> String {
    sql
}

fn main() {}
