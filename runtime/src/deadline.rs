//! One background thread that runs actions at deadlines: it fails thread-pool tasks that run
//! past their timeout. Actions hold weak references, so a finished task is not kept alive.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Instant;

use crate::panic;
use crate::sync::lock;

type Action = Box<dyn FnOnce() + Send>;

struct Entry {
    at: Instant,
    /// Breaks ties between equal instants in arrival order.
    seq: u64,
    action: Action,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Default)]
struct Queue {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

struct Timer {
    queue: Mutex<Queue>,
    /// Notified when an entry earlier than every other arrives.
    changed: Condvar,
}

/// Runs `action` on the timer thread at `at` (at once if `at` has passed).
pub(crate) fn at(at: Instant, action: impl FnOnce() + Send + 'static) {
    let timer = timer();
    let mut queue = lock(&timer.queue);
    let earliest = queue.heap.peek().is_none_or(|Reverse(first)| at < first.at);
    queue.seq += 1;
    let seq = queue.seq;
    queue.heap.push(Reverse(Entry {
        at,
        seq,
        action: Box::new(action),
    }));
    if earliest {
        timer.changed.notify_one();
    }
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let timer: &'static Timer = Box::leak(Box::new(Timer {
            queue: Mutex::new(Queue::default()),
            changed: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("parallel-timer".into())
            .spawn(move || run(timer))
            .expect("the operating system refused to start the timer thread");
        timer
    })
}

/// The timer thread: sleeps until the earliest deadline, runs what is due, repeats.
fn run(timer: &'static Timer) {
    let mut queue = lock(&timer.queue);
    loop {
        let now = Instant::now();
        match queue.heap.peek() {
            Some(Reverse(first)) if first.at <= now => {
                let Reverse(entry) = queue.heap.pop().expect("peeked just above");
                drop(queue);
                // An action completes a future (its callbacks are guarded) and may drop the
                // last reference to a task, whose closure is user code: its `Drop` must not
                // end this thread, which every later deadline needs.
                if let Err(error) = panic::catch(entry.action) {
                    eprintln!("parallel: a drop panicked on the timer thread (ignored): {error}");
                }
                queue = lock(&timer.queue);
            }
            Some(Reverse(first)) => {
                let wait = first.at - now;
                queue = timer
                    .changed
                    .wait_timeout(queue, wait)
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
            }
            None => {
                queue = timer
                    .changed
                    .wait(queue)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        }
    }
}
