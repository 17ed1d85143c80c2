use parallel::parallel;

static LIMIT: u32 = 4;

#[parallel(pool = LIMIT)]
fn square(x: u64) -> u64 {
    x * x
}

fn main() {}
