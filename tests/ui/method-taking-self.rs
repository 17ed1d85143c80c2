use parallel::parallel;

struct Downloader;

impl Downloader {
    #[parallel]
    fn download(&self, file: String) -> String {
        file
    }
}

fn main() {
    // One mistake, one error: the call sees the future it expects.
    let _ = Downloader.download("a.pdf".into()).result();
}
