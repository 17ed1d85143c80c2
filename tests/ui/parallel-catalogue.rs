use parallel::parallel;

// Every mistake of one attribute is reported in one build.
#[parallel(threds = 4, timeout = 2, name = "dl")]
async fn download(file: &str, cache: &mut Vec<u8>) -> String {
    cache.clear();
    file.to_owned()
}

// Callers see the signature they expect: nothing more is reported at the call.
fn main() {
    let _ = download("a.pdf", &mut Vec::new()).result();
}
