//! A deterministic fuzz loop: random byte strings, and mutations of valid encodings, decoded
//! into several types, must give a value or an error, never a panic (or a huge allocation,
//! which would abort the test). Where the encoding of a type is canonical (no maps, whose
//! order and duplicates it does not pin down), a value decoded from the front of the input
//! must encode to exactly the bytes it was read from.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{record, ByteBuf, Record, Shape};
use crate::process_pool::codec::{decode, decode_from, encode};

/// Marsaglia's xorshift64*: deterministic, so a failure reproduces, and no dependency.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A byte, zero or tiny most of the time: such bytes make small lengths, valid tags and
    /// variant indices, so decoding gets deep into the types instead of failing at once.
    fn byte(&mut self) -> u8 {
        let r = self.next();
        match r % 8 {
            0..=3 => 0,
            4 | 5 => (r >> 8) as u8 % 4,
            _ => (r >> 8) as u8,
        }
    }
}

/// Several shapes at once, recursive through `Option<Box<..>>`.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Fuzzed {
    names: Vec<String>,
    blobs: HashMap<u32, Vec<u8>>,
    shape: Shape,
    next: Option<Box<Fuzzed>>,
}

/// A recursive enum of every variant kind.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Tree {
    Leaf(u8),
    Node(Box<Tree>, Box<Tree>),
    Named { label: String, kids: Vec<Tree> },
    Nothing,
}

/// A type whose encoding is canonical, with scalars of every kind.
type Scalars = (char, bool, Option<u128>, i16, Vec<Vec<u16>>);

fn valid_values() -> Vec<Vec<u8>> {
    let fuzzed = Fuzzed {
        names: vec!["α".to_owned(), "b".to_owned()],
        blobs: HashMap::from([(1, vec![1, 2]), (7, vec![])]),
        shape: Shape::Tuple(3, "t".to_owned()),
        next: Some(Box::new(Fuzzed {
            names: vec![],
            blobs: HashMap::new(),
            shape: Shape::Newtype(9),
            next: None,
        })),
    };
    let tree = Tree::Node(
        Box::new(Tree::Leaf(1)),
        Box::new(Tree::Named {
            label: "kid".to_owned(),
            kids: vec![Tree::Nothing, Tree::Leaf(2)],
        }),
    );
    let scalars: Scalars = ('€', true, Some(u128::MAX - 1), -3, vec![vec![1, 2], vec![]]);
    vec![
        encode(&fuzzed).unwrap(),
        encode(&tree).unwrap(),
        encode(&record()).unwrap(),
        encode(&scalars).unwrap(),
        encode(&vec![Shape::Empty, Shape::Newtype(1)]).unwrap(),
        encode(&BTreeMap::from([(
            "k".to_owned(),
            Some(Box::new(Tree::Leaf(0))),
        )]))
        .unwrap(),
    ]
}

/// Decodes `bytes` as a `T`, which must not panic.
fn any<T: DeserializeOwned>(bytes: &[u8]) {
    let _ = decode::<T>(bytes);
    let _ = decode_from::<T>(bytes);
}

/// As `any`, and a value read from the front re-encodes to the bytes it came from.
fn canonical<T: Serialize + DeserializeOwned + Debug>(bytes: &[u8]) {
    if let Ok((value, rest)) = decode_from::<T>(bytes) {
        let read = &bytes[..bytes.len() - rest.len()];
        assert_eq!(encode(&value).unwrap(), read, "{value:?} from {bytes:?}");
    }
}

/// Every type the loop decodes into.
fn decode_all(bytes: &[u8]) {
    any::<Fuzzed>(bytes);
    any::<Record>(bytes);
    any::<HashMap<u32, Vec<u8>>>(bytes);
    any::<BTreeMap<String, Option<Box<Tree>>>>(bytes);
    canonical::<Tree>(bytes);
    canonical::<Vec<Shape>>(bytes);
    canonical::<Scalars>(bytes);
    canonical::<Vec<String>>(bytes);
    canonical::<Option<Box<(String, Option<Box<Shape>>)>>>(bytes);
    any::<ByteBuf>(bytes);
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for round in 0..50_000 {
        // Mostly short inputs of likely bytes; every fourth of any bytes, up to 256 long.
        let bytes: Vec<u8> = if round % 4 == 0 {
            let len = rng.below(257);
            (0..len).map(|_| rng.next() as u8).collect()
        } else {
            let len = rng.below(64);
            (0..len).map(|_| rng.byte()).collect()
        };
        decode_all(&bytes);
    }
}

#[test]
fn mutated_encodings_never_panic() {
    let valid = valid_values();
    for bytes in &valid {
        decode_all(bytes);
    }
    let mut rng = XorShift(0x0123_4567_89AB_CDEF);
    for _ in 0..20_000 {
        let mut bytes = valid[rng.below(valid.len())].clone();
        for _ in 0..=rng.below(3) {
            mutate(&mut bytes, &mut rng);
        }
        decode_all(&bytes);
    }
}

/// One random change: a byte replaced, inserted or removed, a cut, or a huge length written.
fn mutate(bytes: &mut Vec<u8>, rng: &mut XorShift) {
    let at = rng.below(bytes.len() + 1);
    match rng.below(6) {
        0 if at < bytes.len() => bytes[at] = rng.next() as u8,
        1 if at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
        2 => bytes.insert(at, rng.byte()),
        3 if at < bytes.len() => drop(bytes.remove(at)),
        4 => bytes.truncate(at),
        _ => {
            let end = (at + 8).min(bytes.len());
            bytes[at..end].copy_from_slice(&u64::MAX.to_le_bytes()[..end - at]);
        }
    }
}
