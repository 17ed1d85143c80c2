use parallel::parallel;

#[parallel]
struct Downloader {
    files: Vec<String>,
}

fn main() {}
