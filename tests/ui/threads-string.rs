use parallel::parallel;

#[parallel(threads = "4")]
fn download(file: String) -> String {
    file
}

fn main() {}
