//! The queue's rules, one test each. Small: these run under miri too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Arrival, Extension, Popped, Queue, Wait};

#[test]
fn jobs_come_out_in_order_and_a_closed_queue_refuses_pushes_but_empties() {
    let queue = Queue::new();
    for job in 1..=3 {
        queue.push(job).unwrap();
    }
    assert_eq!(queue.queued_hint(), 3);
    assert!(matches!(queue.pop(Wait::Forever, &mut ()), Popped::Job(1)));
    assert!(queue.close(), "this call closed it");
    assert!(!queue.close(), "closing again is harmless");
    assert!(!queue.is_open());
    assert_eq!(queue.push(4), Err(4), "refused, and given back");
    assert!(matches!(queue.pop(Wait::Forever, &mut ()), Popped::Job(2)));
    assert!(matches!(queue.pop(Wait::No, &mut ()), Popped::Job(3)));
    assert!(matches!(queue.pop(Wait::Forever, &mut ()), Popped::Closed));
}

#[test]
fn an_empty_queue_is_empty_at_once_or_times_out_at_its_deadline() {
    let queue: Queue<u8> = Queue::new();
    assert!(matches!(queue.pop(Wait::No, &mut ()), Popped::Empty));
    let deadline = Instant::now() + Duration::from_millis(5);
    assert!(matches!(
        queue.pop(Wait::Until(deadline), &mut ()),
        Popped::TimedOut
    ));
    assert!(Instant::now() >= deadline);
}

#[test]
fn drain_takes_every_queued_job() {
    let queue = Queue::new();
    queue.push('a').unwrap();
    queue.push('b').unwrap();
    assert_eq!(queue.drain(), ['a', 'b']);
    assert_eq!(queue.queued_hint(), 0);
    assert!(queue.is_open(), "draining does not close");
}

#[test]
fn a_sleeping_worker_is_woken_by_a_push_and_by_close() {
    let queue = Arc::new(Queue::new());
    let worker = {
        let queue = Arc::clone(&queue);
        std::thread::spawn(move || {
            let first = queue.pop(Wait::Forever, &mut ());
            let second = queue.pop(Wait::Forever, &mut ());
            (
                matches!(first, Popped::Job(7)),
                matches!(second, Popped::Closed),
            )
        })
    };
    queue.push(7).unwrap();
    queue.close();
    assert_eq!(worker.join().unwrap(), (true, true));
}

/// An extension that counts pushes under the lock and raises the flag at two.
#[derive(Default)]
struct Pushes(usize);

impl Extension for Pushes {
    type Hot = ();

    fn flag(&self) -> bool {
        self.0 >= 2
    }
}

/// Records what `pop` told it.
#[derive(Default)]
struct Log(Vec<&'static str>);

impl Arrival for Log {
    fn wait(&mut self, flagged: bool) {
        self.0.push(if flagged { "wait flagged" } else { "wait" });
    }

    fn leave(&mut self) {
        self.0.push("leave");
    }
}

#[test]
fn an_extension_decides_under_the_lock_and_sets_the_flag() {
    let queue = Queue::with_extension(Pushes::default(), ());
    let seen = queue.push_with(1, |pushes, queued| {
        pushes.0 += 1;
        queued
    });
    assert_eq!(seen, Ok(1));
    assert!(!queue.flagged_hint());
    queue.push_with(2, |pushes, _| pushes.0 += 1).unwrap();
    assert!(queue.flagged_hint(), "stored with the hint");
    let mut log = Log::default();
    assert!(matches!(queue.pop(Wait::No, &mut log), Popped::Job(1)));
    assert_eq!(queue.update(|pushes, jobs| (pushes.0, jobs.len())), (2, 1));
    queue.drain();
    assert!(matches!(queue.pop(Wait::No, &mut log), Popped::Empty));
    let deadline = Instant::now() + Duration::from_millis(1);
    assert!(matches!(
        queue.pop(Wait::Until(deadline), &mut log),
        Popped::TimedOut
    ));
    // A job at once: no wait. Empty with `No`: no wait either. With a deadline: the wait
    // before spinning, and (if the deadline had not passed) the one before sleeping.
    assert_eq!(&log.0[..3], ["leave", "leave", "wait flagged"]);
    assert_eq!(log.0.last(), Some(&"leave"));
}
