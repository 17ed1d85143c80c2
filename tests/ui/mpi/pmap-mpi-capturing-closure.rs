use parallel::pmap;

fn main() {
    let factor = 3u64;
    let _scaled = pmap!(|x: u64| x * factor, 0..10; mpi, retries = 1);
}
