//! Buffers for large encoded inputs, kept between tasks.
//!
//! A large input is encoded into memory that the allocator has just mapped, and the first
//! touch of each 4 KiB page is a page fault: for an 8 MB argument that cost more than
//! encoding it and copying it through the socket together. A pool therefore keeps the
//! buffers of finished large inputs, up to `LIMIT` bytes in all, and encodes the next large
//! input into one of them. Small inputs never use them: the allocator serves those from
//! memory it already has.
//!
//! A process pool on a system with shared memory encodes an input over `shm::THRESHOLD`
//! into a region of shared memory instead (`shm.rs`), which its worker maps: it keeps those
//! regions the same way, so that their pages are resident and mapped in the workers already.

use std::sync::{Arc, Mutex};

use super::codec::ProcessArguments;
use super::os::{self, SharedMemory};
use super::shm::{self, Input, SharedInput};
use crate::sync::lock;

/// Inputs up to this size get a buffer of their own.
const SMALL: usize = 64 << 10;

/// The most a pool keeps, in all, between tasks (in buffers, and again in regions).
const LIMIT: usize = 32 << 20;

/// A pool's spare input buffers.
#[derive(Default)]
pub(crate) struct SpareInputs {
    /// Invariant: every buffer is empty, larger than `SMALL`, and their capacities add up
    /// to at most `LIMIT`.
    buffers: Mutex<Vec<Vec<u8>>>,
    /// Whether large inputs go in shared memory (a process pool where the system has it).
    shared_memory: bool,
    /// Invariant: no task holds any of these regions (each came back after its task's reply,
    /// `give_input`), and their sizes add up to at most `LIMIT`.
    regions: Mutex<Vec<SharedMemory>>,
}

impl SpareInputs {
    /// Spares for a process pool: large inputs go in shared memory where the system has it.
    pub(crate) fn for_processes() -> Self {
        Self {
            shared_memory: os::HAS_SHARED_MEMORY,
            ..Self::default()
        }
    }

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
    #[cfg(all(feature = "mpi", target_os = "linux"))]
    pub(crate) fn encode<Args: ProcessArguments>(&self, args: &Args) -> Result<Vec<u8>, String> {
        let mut input = self.take(args.encoded_len()?);
        args.encode_into(&mut input)?;
        Ok(input)
    }

    /// `args` encoded as a task's input: into a region of shared memory when large and this
    /// pool has them (a spare region when one fits), else as `encode` does.
    pub(crate) fn encode_input<Args: ProcessArguments>(
        &self,
        args: &Args,
    ) -> Result<Input, String> {
        let len = args.encoded_len()?;
        if self.shared_memory && len > shm::THRESHOLD {
            if let Some(mut memory) = self.take_region(len) {
                let written = args.encode_into_slice(memory.bytes_mut());
                return match written {
                    Ok(len) => Ok(Input::Shared(Arc::new(SharedInput { memory, len }))),
                    Err(error) => {
                        self.give_region(memory);
                        Err(error)
                    }
                };
            }
        }
        let mut input = self.take(len);
        args.encode_into(&mut input)?;
        Ok(Input::Bytes(Arc::new(input)))
    }

    /// A region with room for `len` bytes: a spare one that fits, else a new one (`None` if
    /// the system would not make one: the input then goes through the channel).
    fn take_region(&self, len: usize) -> Option<SharedMemory> {
        let mut regions = lock(&self.regions);
        let fitting = regions
            .iter()
            .enumerate()
            .filter(|(_, memory)| memory.len() >= len)
            .min_by_key(|(_, memory)| memory.len())
            .map(|(index, _)| index);
        match fitting {
            Some(index) => Some(regions.swap_remove(index)),
            None => {
                drop(regions);
                shm::region(len).ok()
            }
        }
    }

    /// Keeps `memory` for a later input if there is room for it; else the smaller spare
    /// regions make room, or it goes.
    fn give_region(&self, memory: SharedMemory) {
        if memory.len() > LIMIT {
            return;
        }
        let mut regions = lock(&self.regions);
        regions.push(memory);
        regions.sort_by_key(|memory| std::cmp::Reverse(memory.len()));
        while regions.iter().map(SharedMemory::len).sum::<usize>() > LIMIT {
            regions.pop();
        }
    }

    /// Takes back the input of a task its worker has answered, to serve a later one. An
    /// input still shared with another holder (a send not reaped yet) is simply dropped.
    pub(crate) fn give_input(&self, input: Input) {
        match input {
            Input::Bytes(bytes) => {
                if let Some(bytes) = Arc::into_inner(bytes) {
                    self.give(bytes);
                }
            }
            Input::Shared(shared) => {
                if let Some(shared) = Arc::into_inner(shared) {
                    self.give_region(shared.memory);
                }
            }
        }
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
