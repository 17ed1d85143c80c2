//! Large payloads in shared memory: a task's input or a worker's result over `THRESHOLD`
//! bytes is written into a region of shared memory (`os::SharedMemory`), and only its length
//! and its descriptor travel on the channel (`wire.rs`). Both sides keep the regions they
//! have mapped (`Mappings`) and the worker the regions of its results (`ResultRegions`), so a
//! steady stream of large payloads maps nothing new and faults in no fresh page.
//!
//! Who writes a region, and when (the invariant that keeps one writer at a time; see
//! `README.md`, "Large payloads"):
//! - an input region is written by the pool once, as the task is submitted; from then until
//!   its worker answers (or dies) the pool only reads it, and the worker never writes it. It
//!   goes back to the pool's spares (`spare.rs`) only after the reply.
//! - a result region is written by its worker, then lent to the pool with the `DONE_SHARED`
//!   frame; the worker writes it again only after the pool's `RELEASE` for that task, which
//!   the pool sends once it has decoded the result.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use super::os::{self, Descriptor, SharedMemory};

/// Payloads over this many bytes travel in shared memory where the system has it
/// (`os::HAS_SHARED_MEMORY`). Measured on a 2-vCPU Linux VM (a 1-worker pool, a `Vec<u8>`
/// argument, its length back, median of 300 round trips, two runs of each build): just over
/// 64 KiB the socket took 49–63 µs and shared memory 40–53 µs (within the noise of each
/// other); at 128 KiB 75–82 µs against 39–62 µs; at 256 KiB 85–108 against 46–79; at 1 MiB
/// 411–521 against 252–273. Below 64 KiB a payload fits the channel's read buffer and is one
/// `recvmsg`, where shared memory adds a descriptor, an `fstat` and a lookup.
pub(crate) const THRESHOLD: usize = 64 << 10;

/// Regions are made in multiples of this, so that one serves payloads of nearby sizes.
const GRANULE: usize = 64 << 10;

/// A task's encoded input.
#[derive(Clone)]
pub(crate) enum Input {
    /// Bytes that go through the channel.
    Bytes(Arc<Vec<u8>>),
    /// The first `len` bytes of a region of shared memory, handed to the worker by
    /// descriptor. Invariant: written once before the task is queued, never again while the
    /// task lives (module docs).
    Shared(Arc<SharedInput>),
}

/// An input written into shared memory.
pub(crate) struct SharedInput {
    pub(crate) memory: SharedMemory,
    /// Invariant: at most `memory.len()`.
    pub(crate) len: usize,
}

impl Input {
    /// The encoded bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Self::Bytes(bytes) => bytes,
            Self::Shared(shared) => &shared.memory.bytes()[..shared.len],
        }
    }

    /// How many bytes the encoding takes.
    pub(crate) fn len(&self) -> usize {
        self.bytes().len()
    }

    /// The region, for an input in shared memory.
    pub(crate) fn memory(&self) -> Option<&SharedMemory> {
        match self {
            Self::Bytes(_) => None,
            Self::Shared(shared) => Some(&shared.memory),
        }
    }

    /// The bytes as one shared buffer (copied out of shared memory), for a pool that sends
    /// buffers (MPI).
    #[cfg(all(feature = "mpi", target_os = "linux"))]
    pub(crate) fn to_buffer(&self) -> Arc<Vec<u8>> {
        match self {
            Self::Bytes(bytes) => Arc::clone(bytes),
            Self::Shared(shared) => Arc::new(shared.memory.bytes()[..shared.len].to_vec()),
        }
    }
}

impl Default for Input {
    fn default() -> Self {
        Self::Bytes(Arc::default())
    }
}

/// A new region with room for `len` bytes (rounded up to `GRANULE`).
pub(crate) fn region(len: usize) -> io::Result<SharedMemory> {
    SharedMemory::create(len.div_ceil(GRANULE).max(1) * GRANULE)
}

/// The first `len` bytes of a region the peer handed over.
#[derive(Debug)]
pub(crate) struct Mapped {
    memory: Arc<SharedMemory>,
    /// Invariant: at most `memory.len()` (checked in `Mappings::open`).
    len: usize,
}

impl Mapped {
    /// The payload.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.memory.bytes()[..self.len]
    }
}

/// The regions one end of a channel has mapped from its peer, newest last, so that a region
/// handed over again is not mapped again: mapping it anew would fault in each page again.
#[derive(Default)]
pub(crate) struct Mappings {
    /// Invariant: each region appears once, under its identity; the sizes add up to at most
    /// `KEEP_BYTES` unless one region alone is larger (the newest is always kept).
    mapped: VecDeque<((u64, u64), Arc<SharedMemory>)>,
}

/// The most regions a channel keeps mapped, and their most bytes in all.
const KEEP: usize = 4;
const KEEP_BYTES: usize = 256 << 20;

impl Mappings {
    /// The first `len` bytes of the region behind `descriptor`, mapped now or earlier. The
    /// error says why it is no payload: not shared memory, a size that may change, or fewer
    /// bytes than `len`.
    pub(crate) fn open(&mut self, descriptor: Descriptor, len: usize) -> Result<Mapped, String> {
        let identity = os::identity(&descriptor);
        let known = identity
            .and_then(|identity| self.mapped.iter().position(|(known, _)| *known == identity));
        let memory = match known {
            // The same file, kept alive by our mapping, so its identity is not reused and
            // its size is sealed: the checks made when it was mapped still hold.
            Some(index) => {
                let entry = self.mapped.remove(index).expect("the index was just found");
                self.mapped.push_back(entry);
                Arc::clone(&self.mapped.back().expect("just pushed").1)
            }
            None => {
                let memory = Arc::new(SharedMemory::open(descriptor, len)?);
                if let Some(identity) = memory.identity() {
                    self.keep(identity, Arc::clone(&memory));
                }
                memory
            }
        };
        if len > memory.len() {
            return Err(format!(
                "the payload claims {len} bytes of shared memory that holds {}",
                memory.len()
            ));
        }
        Ok(Mapped { memory, len })
    }

    /// How many regions are mapped.
    #[cfg(all(test, target_os = "linux"))]
    pub(crate) fn mapped_count(&self) -> usize {
        self.mapped.len()
    }

    /// Keeps `memory` mapped as the newest, dropping the oldest beyond the limits.
    fn keep(&mut self, identity: (u64, u64), memory: Arc<SharedMemory>) {
        self.mapped.push_back((identity, memory));
        let total = |mapped: &VecDeque<((u64, u64), Arc<SharedMemory>)>| -> usize {
            mapped.iter().map(|(_, memory)| memory.len()).sum()
        };
        while self.mapped.len() > KEEP
            || (self.mapped.len() > 1 && total(&self.mapped) > KEEP_BYTES)
        {
            self.mapped.pop_front();
        }
    }
}

/// A worker's regions for its large results: free ones, and those lent to the pool until it
/// releases them.
#[derive(Default)]
pub(crate) struct ResultRegions {
    free: Vec<SharedMemory>,
    /// Invariant: the region of task `id` is here from its `DONE_SHARED` until the pool's
    /// `RELEASE` of `id`; nothing writes it meanwhile.
    lent: VecDeque<(u64, SharedMemory)>,
}

/// The most free regions a worker keeps, and the most it lends at once (beyond that the
/// oldest is forgotten: the pool's mapping keeps it alive as long as the pool needs it). On
/// Windows the pool takes its own handle of a region only as it reads the frame, so a region
/// forgotten before that would be lost: `LENT` stays well above the driver's `DEPTH` (2) of
/// tasks in flight per worker, which bounds the replies not read yet.
const FREE: usize = 2;
const LENT: usize = 8;

impl ResultRegions {
    /// A region holding `output` at its start, lent for task `id`; `None` if no region could
    /// be made (the output then goes through the channel).
    pub(crate) fn lend(&mut self, id: u64, output: &[u8]) -> Option<&SharedMemory> {
        let fitting = self
            .free
            .iter()
            .enumerate()
            .filter(|(_, memory)| memory.len() >= output.len())
            .min_by_key(|(_, memory)| memory.len())
            .map(|(index, _)| index);
        let mut memory = match fitting {
            Some(index) => self.free.swap_remove(index),
            None => region(output.len()).ok()?,
        };
        memory.bytes_mut()[..output.len()].copy_from_slice(output);
        if self.lent.len() == LENT {
            self.lent.pop_front();
        }
        self.lent.push_back((id, memory));
        self.lent.back().map(|(_, memory)| memory)
    }

    /// The pool has read the result of task `id`: its region may be written again.
    pub(crate) fn release(&mut self, id: u64) {
        if let Some(index) = self.lent.iter().position(|(lent, _)| *lent == id) {
            let (_, memory) = self.lent.remove(index).expect("the index was just found");
            self.free.push(memory);
            if self.free.len() > FREE {
                let smallest = (0..self.free.len())
                    .min_by_key(|&index| self.free[index].len())
                    .expect("not empty");
                self.free.swap_remove(smallest);
            }
        }
    }
}

#[cfg(all(test, any(target_os = "linux", windows)))]
mod tests {
    use super::*;
    use crate::process_pool::codec::{ProcessArguments, ProcessResult};

    /// xorshift64*: a fixed seed, so a failure repeats.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, bound: u64) -> u64 {
            self.next() % bound.max(1)
        }
    }

    /// A second descriptor of `memory`'s region, as a peer would receive it.
    #[cfg(unix)]
    fn handed_over(memory: &SharedMemory) -> Descriptor {
        memory.descriptor().try_clone_to_owned().unwrap()
    }

    /// A second handle of `memory`'s section, as a peer would take it.
    #[cfg(windows)]
    fn handed_over(memory: &SharedMemory) -> Descriptor {
        memory.handle_for_tests()
    }

    /// The reader fuzzed: regions holding valid encodings with random bytes flipped, cut or
    /// added, and random lengths claimed, mapped and decoded as several types. Every case
    /// must end in a value or an error: no panic, no fault.
    #[test]
    fn corrupt_and_truncated_regions_are_errors_never_faults() {
        type Args = (Vec<f64>, String, Vec<u32>, Option<(u8, char)>);
        let args: Args = (
            vec![1.5, -2.0, 3.25],
            "seven".to_owned(),
            vec![7u32; 40],
            Some((9u8, 'x')),
        );
        let valid = ProcessArguments::encode(&args).unwrap();
        let mut random = Random(0x9e37_79b9_7f4a_7c15);
        let mut mappings = Mappings::default();
        let (mut values, mut errors) = (0, 0);
        for _ in 0..3000 {
            let mut bytes = valid.clone();
            match random.below(4) {
                0 => bytes.truncate(random.below(bytes.len() as u64) as usize),
                1 => bytes.extend((0..random.below(64)).map(|_| random.next() as u8)),
                2 => {
                    bytes = (0..random.below(300))
                        .map(|_| random.next() as u8)
                        .collect()
                }
                _ => {}
            }
            for _ in 0..random.below(6) {
                if !bytes.is_empty() {
                    let at = random.below(bytes.len() as u64) as usize;
                    bytes[at] = random.next() as u8;
                }
            }
            let mut memory = region(bytes.len()).unwrap();
            memory.bytes_mut()[..bytes.len()].copy_from_slice(&bytes);
            let claimed = match random.below(3) {
                0 => random.below(2 * memory.len() as u64) as usize,
                _ => bytes.len(),
            };
            let Ok(mapped) = mappings.open(handed_over(&memory), claimed) else {
                errors += 1;
                continue;
            };
            let input = mapped.bytes();
            let decoded = [
                <Args as ProcessArguments>::decode(input).is_ok(),
                <Vec<f64> as ProcessResult>::decode(input).is_ok(),
                <(u64,) as ProcessArguments>::decode_batch(input).is_ok(),
                <Vec<String> as ProcessResult>::decode(input).is_ok(),
            ];
            values += decoded.iter().filter(|ok| **ok).count();
            errors += decoded.iter().filter(|ok| !**ok).count();
        }
        assert!(values > 0 && errors > 0, "{values} values, {errors} errors");
    }

    #[test]
    #[cfg(target_os = "linux")] // Windows has no identity for a region: it maps each anew
    fn a_region_that_is_mapped_already_is_not_mapped_again() {
        let mut mappings = Mappings::default();
        let memory = region(1000).unwrap();
        for _ in 0..3 {
            assert!(mappings.open(handed_over(&memory), 1000).is_ok());
        }
        assert_eq!(mappings.mapped_count(), 1);
        let problem = mappings
            .open(handed_over(&memory), memory.len() + 1)
            .unwrap_err();
        assert!(problem.contains("claims"), "{problem}");
        for _ in 0..KEEP + 2 {
            mappings
                .open(handed_over(&region(10).unwrap()), 10)
                .unwrap();
        }
        assert_eq!(
            mappings.mapped_count(),
            KEEP,
            "the oldest regions are let go"
        );
    }

    #[test]
    #[cfg(target_os = "linux")] // compares identities
    fn a_result_region_is_written_again_only_after_its_release() {
        let mut results = ResultRegions::default();
        let first = results.lend(1, &[1; 100]).unwrap().identity();
        let second = results.lend(2, &[2; 100]).unwrap().identity();
        assert_ne!(first, second, "task 1's region is still lent");
        results.release(1);
        assert_eq!(results.lend(3, &[3; 100]).unwrap().identity(), first);
    }
}
