use parallel::pmap;

struct Config {
    depth: u32,
}

fn depth(config: Config) -> u32 {
    config.depth
}

struct Report;

fn report(_depth: u32) -> Report {
    Report
}

// A type that cannot travel is named, once, where the map is written.
fn main() {
    let depths: Vec<u32> = pmap!(depth, vec![Config { depth: 1 }]; processes)
        .map(Result::unwrap)
        .collect();
    println!("{depths:?}");
    for report in pmap!(report, 0..4; processes) {
        let _ = report;
    }
}
