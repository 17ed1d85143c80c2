use parallel::parallel;

#[parallel(threads = -1)]
fn download(file: String) -> String {
    file
}

fn main() {}
