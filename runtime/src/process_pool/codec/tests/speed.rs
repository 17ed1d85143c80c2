//! Encoding and decoding speed beside postcard's (the format this one replaced), on the two
//! payloads the process benchmarks move: an 8 MB `Vec<f64>` (p4) and 100,000 one-`u64`
//! tuples (a map's batches). A measurement, not a test, so it is ignored; run it with
//! `cargo test -p parallel-runtime --release --lib codec -- --ignored --nocapture`.
//!
//! Each round times both formats on each payload, in alternating order, so a slow spell of
//! a busy machine touches both alike; the figures are medians over the rounds. Each format's
//! operations are functions called through pointers, so both are compiled alike (as where the
//! pool calls them), not inlined into this test each in its own way.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::process_pool::codec::{decode, decode_from, encode_into, encoded_len};

const ROUNDS: usize = 11;
const FLOATS: usize = 1 << 20;
const TUPLES: usize = 100_000;

/// The operations timed, for one format.
struct Format {
    name: &'static str,
    /// Measures, reserves, encodes: what the pool does with arguments. `out` is a reused
    /// buffer, as the pool's is for large inputs (`spare.rs`), so page faults are not timed.
    encode_floats: fn(&Vec<f64>, &mut Vec<u8>),
    decode_floats: fn(&[u8]) -> Vec<f64>,
    /// One call per tuple, as a batch is encoded (`ProcessArguments::encode_batch`).
    encode_tuples: fn(&[(u64,)], &mut Vec<u8>),
    /// One call per tuple, as a batch is decoded.
    decode_tuples: fn(&[u8], &mut Vec<(u64,)>),
}

const OURS: Format = Format {
    name: "ours",
    encode_floats: |values, out| {
        out.clear();
        out.reserve(encoded_len(values).unwrap());
        encode_into(values, out).unwrap();
    },
    decode_floats: |bytes| decode(bytes).unwrap(),
    encode_tuples: |tuples, out| {
        out.clear();
        for tuple in tuples {
            encode_into(tuple, out).unwrap();
        }
    },
    decode_tuples: |mut bytes, out| {
        out.clear();
        while !bytes.is_empty() {
            let (tuple, rest) = decode_from(bytes).unwrap();
            out.push(tuple);
            bytes = rest;
        }
    },
};

const POSTCARD: Format = Format {
    name: "postcard",
    encode_floats: |values, out| {
        out.clear();
        let size = postcard::ser_flavors::Size::default();
        out.reserve(postcard::serialize_with_flavor(values, size).unwrap());
        postcard::to_io(values, out).unwrap();
    },
    decode_floats: |bytes| postcard::from_bytes(bytes).unwrap(),
    encode_tuples: |tuples, out| {
        out.clear();
        for tuple in tuples {
            postcard::to_io(tuple, &mut *out).unwrap();
        }
    },
    decode_tuples: |mut bytes, out| {
        out.clear();
        while !bytes.is_empty() {
            let (tuple, rest) = postcard::take_from_bytes(bytes).unwrap();
            out.push(tuple);
            bytes = rest;
        }
    },
};

/// The times of one operation in both formats, one per round.
struct Case {
    name: &'static str,
    items: usize,
    bytes: usize,
    times: [Vec<Duration>; 2],
}

impl Case {
    fn new(name: &'static str, items: usize, bytes: usize) -> Self {
        Self {
            name,
            items,
            bytes,
            times: [Vec::new(), Vec::new()],
        }
    }

    /// Runs `run` for each format (0: ours, 1: postcard), in the order `round` picks.
    fn round(&mut self, round: usize, mut run: impl FnMut(&Format)) {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for format in order {
            let start = Instant::now();
            run([&OURS, &POSTCARD][format]);
            self.times[format].push(start.elapsed());
        }
    }

    fn report(&mut self) {
        let [ours, postcard] = self.times.each_mut().map(|times| {
            times.sort();
            times[times.len() / 2]
        });
        let figures = |name: &str, time: Duration| {
            format!(
                "{name} {:>7.3} ms {:>5.2} GB/s {:>5.2} ns/item",
                time.as_secs_f64() * 1e3,
                self.bytes as f64 / time.as_secs_f64() / 1e9,
                time.as_secs_f64() * 1e9 / self.items as f64
            )
        };
        println!(
            "{:<21} {} | {} | postcard/ours {:.2}",
            self.name,
            figures(OURS.name, ours),
            figures(POSTCARD.name, postcard),
            postcard.as_secs_f64() / ours.as_secs_f64()
        );
    }
}

#[test]
#[ignore = "a measurement: run with --release --lib codec -- --ignored --nocapture"]
fn speed_beside_postcard() {
    let floats: Vec<f64> = (0..FLOATS).map(|i| i as f64 * 0.5).collect();
    let tuples: Vec<(u64,)> = (0..TUPLES as u64).map(|i| (i,)).collect();
    let mut decoded = Vec::with_capacity(TUPLES);
    let encoded = [&OURS, &POSTCARD].map(|format| {
        let mut floats_out = Vec::new();
        let mut tuples_out = Vec::new();
        (format.encode_floats)(&floats, &mut floats_out);
        (format.encode_tuples)(&tuples, &mut tuples_out);
        assert_eq!(
            (format.decode_floats)(&floats_out),
            floats,
            "{}",
            format.name
        );
        (format.decode_tuples)(&tuples_out, &mut decoded);
        assert_eq!(decoded, tuples, "{}", format.name);
        (floats_out, tuples_out)
    });
    let index = |format: &Format| usize::from(format.name == POSTCARD.name);
    let mut cases = [
        Case::new("8 MB Vec<f64> encode", FLOATS, FLOATS * 8),
        Case::new("8 MB Vec<f64> decode", FLOATS, FLOATS * 8),
        Case::new("100k (u64,) encode", TUPLES, TUPLES * 8),
        Case::new("100k (u64,) decode", TUPLES, TUPLES * 8),
    ];
    let mut buffer = Vec::with_capacity(2 * FLOATS * 8);
    for round in 0..ROUNDS {
        let [floats_out, floats_in, tuples_out, tuples_in] = &mut cases;
        floats_out.round(round, |format| {
            (format.encode_floats)(black_box(&floats), &mut buffer);
        });
        // The decoded vectors are dropped after the timed part.
        let mut kept = Vec::with_capacity(2);
        floats_in.round(round, |format| {
            kept.push((format.decode_floats)(black_box(&encoded[index(format)].0)));
        });
        drop(kept);
        tuples_out.round(round, |format| {
            (format.encode_tuples)(black_box(&tuples), &mut buffer);
        });
        tuples_in.round(round, |format| {
            (format.decode_tuples)(black_box(&encoded[index(format)].1), &mut decoded);
        });
    }
    println!("median of {ROUNDS} rounds, both formats in each round, order alternating:");
    for case in &mut cases {
        case.report();
    }
}
