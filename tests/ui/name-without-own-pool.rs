use parallel::parallel;

#[parallel(name = "dl")]
fn download(file: String) -> String {
    file
}

fn main() {}
