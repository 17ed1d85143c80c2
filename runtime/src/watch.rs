//! `Watch`: a set of futures subscribed to one [`Signal`], handing out the index of each as it
//! finishes. `as_completed`, `wait` and the unordered map are built on it.

use std::time::Instant;

use crate::future::task::current_pool;
use crate::signal::Signal;
use crate::sync::Arc;
use crate::waitable::Waitable;

pub(crate) struct Watch<W: Waitable> {
    /// Invariant: `Some` until handed out by `take`; every `Some` slot whose future is not
    /// done is subscribed to `signal` with its index as token.
    slots: Vec<Option<W>>,
    signal: Arc<Signal>,
    /// Slots before this index are not worth trying to help with: being pending on this
    /// thread's pool is a state a future leaves and never re-enters.
    help_from: usize,
}

impl<W: Waitable> Watch<W> {
    /// Subscribes every item. Items already done are reported first, in input order.
    pub(crate) fn new(items: Vec<W>) -> Self {
        let signal = Signal::new();
        for (index, item) in items.iter().enumerate() {
            if !item.completion().subscribe(&signal, index) {
                signal.notify(index);
            }
        }
        Self {
            slots: items.into_iter().map(Some).collect(),
            signal,
            help_from: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn get(&self, index: usize) -> Option<&W> {
        self.slots[index].as_ref()
    }

    /// The index of the next item to finish, waiting until `deadline`; `None` if it passed.
    /// Each index comes out once. Call at most `len()` times without a deadline.
    pub(crate) fn next_done(&mut self, deadline: Option<Instant>) -> Option<usize> {
        loop {
            if let Some(index) = self.signal.try_recv() {
                return Some(index);
            }
            if !self.help_one() {
                return self.signal.recv(deadline);
            }
        }
    }

    /// On a pool worker, runs one item still queued on this worker's pool (see
    /// `Completion::help`) instead of sleeping on it. Returns whether it ran one.
    fn help_one(&mut self) -> bool {
        if current_pool() == 0 {
            return false;
        }
        while self.help_from < self.slots.len() {
            let index = self.help_from;
            self.help_from += 1;
            if let Some(item) = &self.slots[index] {
                if item.completion().help() {
                    return true;
                }
            }
        }
        false
    }

    /// Hands out the item at `index`.
    pub(crate) fn take(&mut self, index: usize) -> W {
        self.slots[index]
            .take()
            .expect("each index is handed out once")
    }

    /// Ends the watch and returns the items not handed out, in input order.
    pub(crate) fn into_rest(mut self) -> Vec<W> {
        self.unsubscribe();
        std::mem::take(&mut self.slots)
            .into_iter()
            .flatten()
            .collect()
    }

    fn unsubscribe(&self) {
        for item in self.slots.iter().flatten() {
            item.completion().unsubscribe(&self.signal);
        }
    }
}

impl<W: Waitable> Drop for Watch<W> {
    fn drop(&mut self) {
        self.unsubscribe();
    }
}
