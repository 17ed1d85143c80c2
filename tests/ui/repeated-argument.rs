use parallel::parallel;

#[parallel(threads = 2, threads = 4)]
fn download(file: String) -> String {
    file
}

fn main() {}
