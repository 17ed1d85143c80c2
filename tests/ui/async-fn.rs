use parallel::parallel;

#[parallel]
async fn download(file: String) -> String {
    file
}

fn main() {}
