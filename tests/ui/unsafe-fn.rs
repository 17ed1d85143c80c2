use parallel::parallel;

#[parallel]
unsafe fn read(address: usize) -> u8 {
    address as u8
}

// The mistake is reported once, at the attribute: callers see the signature they expect.
fn main() {
    let _ = read(0).result();
    let _ = read::sync(0);
}
