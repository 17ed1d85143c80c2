use parallel::parallel;

#[parallel(threds = 4)]
fn download(file: String) -> String {
    file
}

fn main() {}
