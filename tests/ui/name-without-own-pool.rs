use parallel::parallel;

#[parallel(name = "dl")]
fn download(file: String) -> String {
    file
}

// The mistake is reported once, at the attribute: callers see the signature they expect.
fn main() {
    let _ = download(String::new()).result();
    let _ = download::sync(String::new());
}
