use parallel::parallel;

#[parallel(threads = 0)]
fn download(file: String) -> String {
    file
}

fn main() {}
