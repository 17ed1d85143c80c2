use parallel::parallel;

#[parallel(threads = 2.5)]
fn download(file: String) -> String {
    file
}

fn main() {}
