use parallel::pmap;

fn main() {
    // Every mistake of one pmap! is reported in one build.
    let _sums = pmap!(|a, b| a + b, 0..10; chunks = 2, chunksize = 0, ordered = 1, timeout = "later");
}
