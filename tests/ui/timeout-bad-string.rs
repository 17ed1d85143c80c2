use parallel::parallel;

#[parallel(timeout = "soon")]
fn download(file: String) -> String {
    file
}

fn main() {}
