use parallel::parallel;

// Every mistake of one attribute is reported in one build.
#[parallel(threds = 4, timeout = 2, name = "dl")]
async fn download(file: &str, cache: &mut Vec<u8>) -> String {
    cache.clear();
    file.to_owned()
}

fn main() {}
