//! Buffers for large encoded inputs, kept between tasks.
//!
//! A large input is encoded into memory that the allocator has just mapped, and the first
//! touch of each 4 KiB page is a page fault: for an 8 MB argument that cost more than
//! encoding it and copying it through the socket together. A pool therefore keeps the
//! buffers of finished large inputs, up to `LIMIT` bytes in all, and encodes the next large
//! input into one of them. Small inputs never use them: the allocator serves those from
//! memory it already has.

use std::sync::Mutex;

use super::codec::ProcessArguments;
use crate::sync::lock;

/// Inputs up to this size get a buffer of their own.
const SMALL: usize = 64 << 10;

/// The most a pool keeps, in all, between tasks.
const LIMIT: usize = 32 << 20;

/// A pool's spare input buffers.
#[derive(Default)]
pub(crate) struct SpareInputs {
    /// Invariant: every buffer is empty, larger than `SMALL`, and their capacities add up
    /// to at most `LIMIT`.
    buffers: Mutex<Vec<Vec<u8>>>,
}

impl SpareInputs {
    /// An empty buffer with room for `len` bytes: a spare one when `len` is large and one
    /// fits, else a new one.
    pub(crate) fn take(&self, len: usize) -> Vec<u8> {
        if len > SMALL {
            let mut buffers = lock(&self.buffers);
            let fitting = buffers
                .iter()
                .enumerate()
                .filter(|(_, buffer)| buffer.capacity() >= len)
                .min_by_key(|(_, buffer)| buffer.capacity())
                .map(|(index, _)| index);
            if let Some(index) = fitting {
                return buffers.swap_remove(index);
            }
        }
        Vec::with_capacity(len)
    }

    /// `args` encoded into a buffer of its exact size, measured first: a spare one when large.
    pub(crate) fn encode<Args: ProcessArguments>(&self, args: &Args) -> Result<Vec<u8>, String> {
        let mut input = self.take(args.encoded_len()?);
        args.encode_into(&mut input)?;
        Ok(input)
    }

    /// Keeps `buffer` for a later input if it is large and there is room for it.
    pub(crate) fn give(&self, mut buffer: Vec<u8>) {
        let capacity = buffer.capacity();
        if capacity <= SMALL || capacity > LIMIT {
            return;
        }
        buffer.clear();
        let mut buffers = lock(&self.buffers);
        let kept: usize = buffers.iter().map(Vec::capacity).sum();
        if kept + capacity <= LIMIT {
            buffers.push(buffer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_buffers_are_reused_small_ones_are_not_kept() {
        let spare = SpareInputs::default();
        let mut big = spare.take(1 << 20);
        big.extend_from_slice(&[7; 1 << 20]);
        let address = big.as_ptr();
        spare.give(big);
        let again = spare.take(1000 << 10);
        assert_eq!(again.as_ptr(), address, "the spare buffer came back");
        assert!(again.is_empty());
        spare.give(Vec::with_capacity(100));
        assert!(lock(&spare.buffers).is_empty());
    }

    #[test]
    fn what_is_kept_stays_under_the_limit() {
        let spare = SpareInputs::default();
        for _ in 0..4 {
            spare.give(Vec::with_capacity(LIMIT / 3));
        }
        let kept: usize = lock(&spare.buffers).iter().map(Vec::capacity).sum();
        assert!(kept <= LIMIT);
        assert_eq!(lock(&spare.buffers).len(), 3);
        spare.give(Vec::with_capacity(LIMIT + 1));
        assert_eq!(lock(&spare.buffers).len(), 3);
    }
}
