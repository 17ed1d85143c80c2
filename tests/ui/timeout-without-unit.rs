use parallel::parallel;

#[parallel(timeout = 2)]
fn download(file: String) -> String {
    file
}

fn main() {}
