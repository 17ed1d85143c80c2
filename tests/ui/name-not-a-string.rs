use parallel::parallel;

#[parallel(threads = 2, name = download)]
fn download(file: String) -> String {
    file
}

fn main() {}
