//! Large payloads through shared memory (on Linux and Windows; through the socket on macOS,
//! where the same tests check that nothing changed): sizes around the threshold, a 64 MB argument and
//! result, workers that die in the middle of a large transfer, and every payload intact
//! afterwards. What a corrupt descriptor or a lying size does is tested beside the reader
//! (`runtime/src/process_pool/wire/tests.rs`, `shm.rs`), where a broken peer can be played.

mod common;

use common::PATIENCE;
use parallel::{parallel, Future, ProcessPool, TaskError};

/// The outcome of `future`, failing the test (rather than hanging it) if it never comes.
fn outcome<T>(future: &Future<T>) -> Result<T, TaskError> {
    let outcome = future.result_timeout(PATIENCE);
    assert!(future.is_done(), "the task did not finish in {PATIENCE:?}");
    outcome
}

/// The payload threshold of `runtime/src/process_pool/shm.rs` (64 KiB).
const THRESHOLD: usize = 64 << 10;

#[parallel(processes = 1)]
fn echo_bytes(bytes: Vec<u8>) -> Vec<u8> {
    bytes
}

#[parallel(processes = 1)]
fn checksum(bytes: Vec<u8>, label: String) -> (u64, usize, String) {
    let sum = bytes
        .iter()
        .enumerate()
        .map(|(at, &byte)| (at as u64 + 1) * u64::from(byte))
        .sum();
    (sum, bytes.len(), label)
}

#[parallel(processes = 1)]
fn floats_back(count: usize) -> Vec<f64> {
    (0..count).map(|i| i as f64 * 0.25).collect()
}

#[parallel(processes = 1)]
fn die_holding(bytes: Vec<u8>) -> Vec<u8> {
    if bytes.first() == Some(&1) {
        std::process::exit(3);
    }
    bytes
}

#[parallel(processes = 1)]
fn sleep_holding(bytes: Vec<u8>) -> usize {
    std::thread::sleep(std::time::Duration::from_secs(30));
    bytes.len()
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|at| (at as u8).wrapping_mul(31) ^ seed)
        .collect()
}

fn expected_checksum(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .enumerate()
        .map(|(at, &byte)| (at as u64 + 1) * u64::from(byte))
        .sum()
}

fn pool() -> ProcessPool {
    ProcessPool::builder()
        .workers(1)
        .build()
        .expect("a process pool")
}

#[test]
#[cfg_attr(miri, ignore)]
fn payloads_around_the_threshold_arrive_intact_both_ways() {
    let pool = pool();
    // The encoding of a `Vec<u8>` is its length (8 bytes) and the bytes.
    for len in (THRESHOLD - 24..THRESHOLD + 24).chain([0, 1, 2 * THRESHOLD, 1 << 20]) {
        let bytes = pattern(len, len as u8);
        let back = outcome(&pool.submit(echo_bytes, (bytes.clone(),))).unwrap();
        assert_eq!(back, bytes, "an echo of {len} bytes");
        let label = format!("{len} bytes");
        let (sum, seen, text) =
            outcome(&pool.submit(checksum, (bytes.clone(), label.clone()))).unwrap();
        assert_eq!((sum, seen, text), (expected_checksum(&bytes), len, label));
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_64_mb_argument_and_result_cross_and_regions_are_reused() {
    let pool = pool();
    let big = pattern(64 << 20, 7);
    for _ in 0..3 {
        let back = outcome(&pool.submit(echo_bytes, (big.clone(),))).unwrap();
        assert!(back == big, "64 MB came back changed");
    }
    let floats = outcome(&pool.submit(floats_back, (8 << 20,))).unwrap();
    assert_eq!(floats.len(), 8 << 20);
    assert!(floats
        .iter()
        .enumerate()
        .all(|(i, &x)| x == i as f64 * 0.25));
    // Payloads of different sizes one after another, reusing each other's regions.
    for (round, len) in [3 << 20, 100 << 10, 5 << 20, THRESHOLD + 1]
        .into_iter()
        .enumerate()
    {
        let bytes = pattern(len, round as u8);
        assert_eq!(
            outcome(&pool.submit(echo_bytes, (bytes.clone(),))).unwrap(),
            bytes
        );
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_worker_that_dies_holding_a_large_payload_fails_only_its_task() {
    let pool = pool();
    for round in 0..3u8 {
        let mut doomed = pattern(8 << 20, round);
        doomed[0] = 1;
        let error = outcome(&pool.submit(die_holding, (doomed,))).unwrap_err();
        assert!(error.is_worker_died(), "{error}");
        let mut fine = pattern(8 << 20, round);
        fine[0] = 0;
        let back = outcome(&pool.submit(die_holding, (fine.clone(),))).unwrap();
        assert!(back == fine, "the next worker got the payload intact");
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_worker_killed_in_a_large_task_leaves_the_next_payloads_intact() {
    let pool = pool();
    for round in 0..2u8 {
        let running = pool.submit(sleep_holding, (pattern(16 << 20, round),));
        // Queued behind it: it goes to the next worker once this one is killed.
        let queued = pool.submit(echo_bytes, (pattern(16 << 20, round + 1),));
        while !running.is_running() {
            std::thread::yield_now();
        }
        assert!(running.kill());
        assert!(outcome(&running).unwrap_err().is_cancelled());
        assert!(outcome(&queued).unwrap() == pattern(16 << 20, round + 1));
    }
}
