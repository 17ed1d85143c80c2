//! Brief spinning before sleeping: waking a sleeping thread costs tens of microseconds on a
//! virtual machine (a futex wake plus the scheduler), far more than the tasks this runtime is
//! asked to hand over, so a thread about to sleep first polls for a short while, yielding its
//! core to the threads it waits on (the approach of rayon-core's `sleep` module).

use std::time::{Duration, Instant};

/// How long a thread polls before it sleeps.
pub(crate) const SPIN_FOR: Duration = Duration::from_micros(50);

/// Polls `ready` until it returns `true` (then returns `true`) or `limit` has passed
/// (then returns `false`): a few rounds of busy-waiting, then `yield_now` between polls.
pub(crate) fn spin_until(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    if cfg!(loom) {
        return ready();
    }
    for round in 0..7 {
        if ready() {
            return true;
        }
        for _ in 0..1 << round {
            std::hint::spin_loop();
        }
    }
    let start = Instant::now();
    loop {
        if ready() {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::yield_now();
    }
}
