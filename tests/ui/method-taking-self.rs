use parallel::parallel;

struct Downloader;

impl Downloader {
    #[parallel]
    fn download(&self, file: String) -> String {
        file
    }
}

fn main() {}
