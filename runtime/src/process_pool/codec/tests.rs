//! The codec: every shape of the serde data model round trips, is measured exactly and has the
//! bytes the format says; messages of failing user impls are kept; corrupt input is an error.
//! The fuzz loop and the speed comparison with postcard are in their own files.

mod fuzz;
mod speed;

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Debug};

use serde::de::{DeserializeOwned, DeserializeSeed, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::de::Deserializer as CodecDeserializer;
use super::{decode, decode_from, encode, encode_into, encoded_len};

/// Encodes `value`, checks everything that must hold of any encoding, and returns the bytes:
/// it is measured exactly, decodes to an equal value, every proper prefix is an error, a
/// trailing byte is an error for `decode` but is handed back by `decode_from`.
fn round_trip<T>(value: &T) -> Vec<u8>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let bytes = encode(value).unwrap();
    assert_eq!(
        encoded_len(value).unwrap(),
        bytes.len(),
        "measured {value:?}"
    );
    let mut appended = vec![0xEE];
    encode_into(value, &mut appended).unwrap();
    assert_eq!(appended[1..], bytes, "appended {value:?}");
    assert_eq!(&decode::<T>(&bytes).unwrap(), value);
    for end in 0..bytes.len() {
        assert!(
            decode::<T>(&bytes[..end]).is_err(),
            "{value:?} truncated to {end} of {} bytes",
            bytes.len()
        );
    }
    let mut longer = bytes.clone();
    longer.push(0xAB);
    assert!(
        decode::<T>(&longer).is_err(),
        "{value:?} with a trailing byte"
    );
    let (again, rest) = decode_from::<T>(&longer).unwrap();
    assert_eq!((&again, rest), (value, &[0xAB][..]));
    bytes
}

/// Little-endian `u64` bytes of `n`: how lengths and counts are written.
fn len(n: u64) -> Vec<u8> {
    n.to_le_bytes().to_vec()
}

#[test]
fn integers_are_fixed_width_little_endian() {
    assert_eq!(round_trip(&0x12u8), [0x12]);
    assert_eq!(round_trip(&0x1234u16), [0x34, 0x12]);
    assert_eq!(round_trip(&0x1234_5678u32), [0x78, 0x56, 0x34, 0x12]);
    assert_eq!(round_trip(&1u64), [1, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(round_trip(&-1i32), [0xFF; 4]);
    assert_eq!(round_trip(&u128::MAX), [0xFF; 16]);
    assert_eq!(round_trip(&i128::MIN)[15], 0x80);
    round_trip(&(u8::MIN, u8::MAX, u16::MIN, u16::MAX, u32::MIN, u32::MAX));
    round_trip(&(u64::MIN, u64::MAX, u128::MIN, u128::MAX));
    round_trip(&(i8::MIN, i8::MAX, i16::MIN, i16::MAX, i32::MIN, i32::MAX));
    round_trip(&(i64::MIN, i64::MAX, i128::MIN, i128::MAX, 0i128, -1i64));
    round_trip(&(usize::MAX, isize::MIN));
}

#[test]
fn floats_keep_their_bits() {
    for value in [
        0.0,
        -0.0,
        1.5,
        f64::MIN,
        f64::MAX,
        f64::EPSILON,
        f64::INFINITY,
    ] {
        assert_eq!(round_trip(&value), value.to_le_bytes());
    }
    round_trip(&(f32::MIN_POSITIVE, f32::NEG_INFINITY, -0.0f32));
    let nan = f64::from_bits(0x7FF8_0000_DEAD_BEEF);
    let back: f64 = decode(&encode(&nan).unwrap()).unwrap();
    assert_eq!(back.to_bits(), nan.to_bits());
    let nan = f32::from_bits(0xFFC0_0123);
    let back: f32 = decode(&encode(&nan).unwrap()).unwrap();
    assert_eq!(back.to_bits(), nan.to_bits());
}

#[test]
fn bools_chars_and_units() {
    assert_eq!(round_trip(&false), [0]);
    assert_eq!(round_trip(&true), [1]);
    assert_eq!(round_trip(&'a'), [0x61, 0, 0, 0]);
    for value in ['\0', 'é', '€', '\u{10FFFF}'] {
        assert_eq!(round_trip(&value), u32::from(value).to_le_bytes());
    }
    assert_eq!(round_trip(&()), []);
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Unit;
    assert_eq!(round_trip(&Unit), []);
    assert_eq!(round_trip(&((), Unit, ())), []);
}

#[test]
fn strings_are_a_length_then_utf8() {
    assert_eq!(round_trip(&String::new()), len(0));
    assert_eq!(
        round_trip(&"héllo".to_owned()),
        [len(6), "héllo".into()].concat()
    );
    round_trip(&"x".repeat(100_000));
}

#[test]
fn borrowed_strings_and_bytes_point_into_the_input() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Borrowing<'a> {
        name: &'a str,
        #[serde(borrow)]
        bytes: Bytes<'a>,
    }
    let value = Borrowing {
        name: "borrowed",
        bytes: Bytes(&[1, 2, 3]),
    };
    let bytes = encode(&value).unwrap();
    assert_eq!(encoded_len(&value).unwrap(), bytes.len());
    let back: Borrowing<'_> = decode(&bytes).unwrap();
    assert_eq!(back, value);
    let input = bytes.as_ptr_range();
    assert!(input.contains(&back.name.as_ptr()), "the str is borrowed");
    assert!(
        input.contains(&back.bytes.0.as_ptr()),
        "the bytes are borrowed"
    );
    let (name, rest): (&str, _) = decode_from(&bytes).unwrap();
    assert_eq!((name, rest.len()), ("borrowed", 8 + 3));
}

#[test]
fn bytes_are_a_length_then_the_bytes() {
    let value = ByteBuf(vec![0, 1, 0xFF]);
    let bytes = round_trip(&value);
    assert_eq!(bytes, [len(3), vec![0, 1, 0xFF]].concat());
    assert_eq!(
        bytes,
        encode(&value.0).unwrap(),
        "the same bytes as a Vec<u8>"
    );
    round_trip(&ByteBuf(Vec::new()));
    round_trip(&ByteBuf(vec![7; 70_000]));
}

#[test]
fn options_are_a_tag_then_the_value() {
    assert_eq!(round_trip(&None::<u16>), [0]);
    assert_eq!(round_trip(&Some(0x0102u16)), [1, 2, 1]);
    assert_eq!(round_trip(&Some(None::<u8>)), [1, 0]);
    assert_eq!(round_trip(&Some(Some(()))), [1, 1]);
    round_trip(&Some("text".to_owned()));
    round_trip(&vec![Some(1u8), None, Some(3)]);
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Shape {
    Empty,
    Newtype(u16),
    Tuple(u8, String),
    Struct { a: i32, b: Vec<bool> },
}

#[test]
fn enum_variants_are_an_index_then_their_content() {
    assert_eq!(round_trip(&Shape::Empty), [0, 0, 0, 0]);
    assert_eq!(round_trip(&Shape::Newtype(0x0102)), [1, 0, 0, 0, 2, 1]);
    assert_eq!(
        round_trip(&Shape::Tuple(9, "ab".to_owned())),
        [vec![2, 0, 0, 0, 9], len(2), b"ab".to_vec()].concat()
    );
    assert_eq!(
        round_trip(&Shape::Struct {
            a: -2,
            b: vec![true, false]
        }),
        [
            vec![3, 0, 0, 0],
            (-2i32).to_le_bytes().to_vec(),
            len(2),
            vec![1, 0]
        ]
        .concat()
    );
    round_trip(&vec![Shape::Empty, Shape::Newtype(7), Shape::Empty]);
    round_trip(&Some(Shape::Tuple(0, String::new())));
}

#[test]
fn newtype_tuple_and_struct_shapes_are_their_fields_in_order() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Newtype(u32);
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Pair(u8, i8);
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Named {
        first: u8,
        #[serde(skip)]
        skipped: u8,
        second: Pair,
    }
    assert_eq!(round_trip(&Newtype(5)), [5, 0, 0, 0]);
    assert_eq!(round_trip(&Pair(1, -1)), [1, 0xFF]);
    assert_eq!(round_trip(&(1u8, (2u8, 3u8), [4u8, 5])), [1, 2, 3, 4, 5]);
    let named = Named {
        first: 1,
        skipped: 0,
        second: Pair(2, 3),
    };
    assert_eq!(
        round_trip(&named),
        [1, 2, 3],
        "no count, no names, skip skipped"
    );
}

#[test]
fn nested_collections_round_trip() {
    round_trip(&vec![vec![1u32, 2], vec![], vec![3]]);
    round_trip(&Vec::<Vec<String>>::new());
    let mut map = HashMap::new();
    map.insert("one".to_owned(), vec![1u8]);
    map.insert("none".to_owned(), vec![]);
    round_trip(&map);
    let tree: BTreeMap<u32, Option<String>> = [(1, None), (2, Some("two".to_owned()))]
        .into_iter()
        .collect();
    assert_eq!(
        round_trip(&tree),
        [
            len(2),
            vec![1, 0, 0, 0, 0, 2, 0, 0, 0, 1],
            len(3),
            b"two".to_vec()
        ]
        .concat()
    );
    round_trip(&BTreeMap::from([(
        vec![1u8],
        BTreeMap::from([('k', tree.clone())]),
    )]));
}

/// A struct as users derive it, with most shapes inside.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Record {
    id: u64,
    name: String,
    tags: Vec<String>,
    score: f64,
    shape: Shape,
    flags: (bool, char),
    counts: BTreeMap<String, u32>,
    parent: Option<Box<Record>>,
}

fn record() -> Record {
    let leaf = Record {
        id: 1,
        name: "leaf".to_owned(),
        tags: vec![],
        score: -0.5,
        shape: Shape::Empty,
        flags: (false, 'x'),
        counts: BTreeMap::new(),
        parent: None,
    };
    Record {
        id: u64::MAX,
        name: "root ✓".to_owned(),
        tags: vec!["a".to_owned(), String::new(), "ccc".to_owned()],
        score: 1e300,
        shape: Shape::Struct {
            a: i32::MIN,
            b: vec![true],
        },
        flags: (true, '\u{1F980}'),
        counts: BTreeMap::from([("x".to_owned(), 1), ("y".to_owned(), 2)]),
        parent: Some(Box::new(leaf)),
    }
}

#[test]
fn a_derived_struct_round_trips() {
    round_trip(&record());
    round_trip(&vec![record(), record()]);
}

/// A seq serialized without its length up front (`serialize_seq(None)`), read back as a Vec.
#[derive(Debug, PartialEq)]
struct Unsized<T>(Vec<T>);

impl<T: Serialize> Serialize for Unsized<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for element in &self.0 {
            seq.serialize_element(element)?;
        }
        seq.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Unsized<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::deserialize(deserializer).map(Unsized)
    }
}

/// A map serialized without its length up front, read back as a BTreeMap.
#[derive(Debug, PartialEq)]
struct UnsizedMap(BTreeMap<u8, Unsized<u16>>);

impl Serialize for UnsizedMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for UnsizedMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeMap::deserialize(deserializer).map(UnsizedMap)
    }
}

#[test]
fn sequences_of_unknown_length_are_patched_at_the_end() {
    let value = Unsized(vec![1u32, 2, 3]);
    assert_eq!(round_trip(&value), encode(&value.0).unwrap());
    round_trip(&Unsized(Vec::<u8>::new()));
    let nested = Unsized(vec![
        Unsized(vec![1u8]),
        Unsized(vec![]),
        Unsized(vec![2, 3]),
    ]);
    assert_eq!(
        round_trip(&nested),
        encode(&vec![vec![1u8], vec![], vec![2, 3]]).unwrap()
    );
    let map = UnsizedMap(BTreeMap::from([
        (1, Unsized(vec![7])),
        (2, Unsized(vec![])),
    ]));
    round_trip(&map);
    // Patched where it sits, after bytes that were already in the buffer.
    let mut out = vec![9; 5];
    encode_into(&(1u8, Unsized(vec![true])), &mut out).unwrap();
    assert_eq!(out, [vec![9; 5], vec![1], len(1), vec![1]].concat());
}

#[test]
fn a_skipped_field_is_an_error_since_fields_travel_without_names() {
    #[derive(Serialize)]
    struct Sparse {
        #[serde(skip_serializing_if = "Option::is_none")]
        maybe: Option<u8>,
        after: u8,
    }
    assert!(encode(&Sparse {
        maybe: Some(1),
        after: 2
    })
    .is_ok());
    let error = encode(&Sparse {
        maybe: None,
        after: 2,
    })
    .unwrap_err()
    .to_string();
    assert!(error.contains("field `maybe` was skipped"), "{error}");
}

#[test]
fn formats_that_need_self_description_are_refused_with_advice() {
    #[derive(Debug, Serialize, Deserialize)]
    #[serde(untagged)]
    enum Untagged {
        Number(u8),
        Text(String),
    }
    let bytes = encode(&Untagged::Number(1)).unwrap();
    let error = decode::<Untagged>(&bytes).unwrap_err().to_string();
    assert!(error.contains("not self-describing"), "{error}");
    assert!(
        error.contains("untagged") && error.contains("flatten"),
        "{error}"
    );
}

#[test]
fn the_format_is_not_human_readable() {
    struct Probe;
    impl Serialize for Probe {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let readable = serializer.is_human_readable();
            serializer.serialize_bool(readable)
        }
    }
    assert_eq!(encode(&Probe).unwrap(), [0]);
    struct Readable(bool);
    impl<'de> Deserialize<'de> for Readable {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let readable = deserializer.is_human_readable();
            <()>::deserialize(deserializer).map(|()| Readable(readable))
        }
    }
    assert!(!decode::<Readable>(&[]).unwrap().0);
}

/// Fails to encode, or to decode, with `Error::custom` and a message of its own.
#[derive(Debug, PartialEq)]
struct Failing;

impl Serialize for Failing {
    fn serialize<S: Serializer>(&self, _serializer: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("message raised in Serialize"))
    }
}

impl<'de> Deserialize<'de> for Failing {
    fn deserialize<D: Deserializer<'de>>(_deserializer: D) -> Result<Self, D::Error> {
        Err(serde::de::Error::custom("message raised in Deserialize"))
    }
}

#[test]
fn custom_messages_are_kept_word_for_word() {
    let message = "message raised in Serialize";
    assert_eq!(encode(&Failing).unwrap_err().to_string(), message);
    assert_eq!(encoded_len(&Failing).unwrap_err().to_string(), message);
    let nested = (1u8, vec![Some(Failing)]);
    assert_eq!(encode(&nested).unwrap_err().to_string(), message);
    assert_eq!(
        encode(&Unsized(vec![Failing])).unwrap_err().to_string(),
        message
    );
    let message = "message raised in Deserialize";
    assert_eq!(decode::<Failing>(&[]).unwrap_err().to_string(), message);
    let error = decode::<(u8, Vec<Failing>)>(&[vec![1], len(1)].concat()).unwrap_err();
    assert_eq!(error.to_string(), message);
    // serde's own messages come through too.
    let error = decode::<Shape>(&[9, 0, 0, 0]).unwrap_err().to_string();
    assert!(error.contains("variant index 0 <= i < 4"), "{error}");
}

#[test]
fn corrupt_input_is_an_error() {
    let huge = len(u64::MAX);
    assert!(decode::<String>(&huge).is_err());
    assert!(decode::<Vec<u8>>(&huge).is_err());
    assert!(decode::<Vec<u64>>(&huge).is_err());
    assert!(decode::<HashMap<u32, u32>>(&huge).is_err());
    assert!(decode::<ByteBuf>(&huge).is_err());
    let error = decode::<String>(&[len(10), b"short".to_vec()].concat()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the input is truncated or corrupt: 10 bytes needed, 5 left"
    );
    let error = decode::<String>(&[len(2), vec![0xC3, 0x28]].concat()).unwrap_err();
    assert!(error.to_string().contains("not UTF-8"), "{error}");
    let error = decode::<bool>(&[2]).unwrap_err();
    assert_eq!(error.to_string(), "2 is not a bool (0 or 1)");
    let error = decode::<char>(&0xD800u32.to_le_bytes()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "0xd800 is not a char (a Unicode scalar value)"
    );
    assert!(decode::<char>(&0x11_0000u32.to_le_bytes()).is_err());
    assert!(decode::<Option<u8>>(&[2, 0]).is_err());
    let error = decode::<u8>(&[1, 2]).unwrap_err();
    assert_eq!(error.to_string(), "1 bytes were left over after the value");
    assert!(decode::<(u32,)>(&[1, 2, 3]).is_err());
}

#[test]
fn a_count_of_zero_sized_elements_far_beyond_the_input_is_refused_at_once() {
    // Would otherwise loop 2^64 times producing `()`s, each taking no input.
    let error = decode::<Vec<()>>(&len(u64::MAX)).unwrap_err();
    assert!(error.to_string().contains("is corrupt"), "{error}");
    assert!(decode::<HashMap<(), ()>>(&len(1 << 40)).is_err());
    // Honest ones, well within the slack, still round trip.
    round_trip(&vec![(); 1000]);
}

/// Reads the first element of a seq, then drops the rest, or with `forget`, the access too.
struct Partial {
    forget: bool,
}

impl<'de> DeserializeSeed<'de> for Partial {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Partial {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        seq.next_element::<u8>()?;
        if self.forget {
            std::mem::forget(seq);
        }
        Ok(())
    }
}

#[test]
fn elements_a_visitor_leaves_unread_are_an_error() {
    let input = [len(3), vec![1, 2, 3]].concat();
    let error = Partial { forget: false }
        .deserialize(&mut CodecDeserializer::new(&input))
        .unwrap_err();
    assert_eq!(error.to_string(), "a visitor left 2 elements unread");
    let error = Partial { forget: true }
        .deserialize(&mut CodecDeserializer::new(&input))
        .unwrap_err();
    assert!(error.to_string().contains("kept a sequence"), "{error}");
}

/// A seed that records the size hint a seq or map offers, then gives up.
struct Hint<'a>(&'a Cell<Option<usize>>);

impl<'de> DeserializeSeed<'de> for Hint<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Hint<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.0.set(seq.size_hint());
        Ok(())
    }
}

#[test]
fn a_size_hint_never_exceeds_the_bytes_left() {
    let hint = Cell::new(None);
    let input = [len(2_000), vec![0; 100]].concat();
    let _ = Hint(&hint).deserialize(&mut CodecDeserializer::new(&input));
    assert_eq!(hint.get(), Some(100));
    let input = [len(3), vec![0; 100]].concat();
    let _ = Hint(&hint).deserialize(&mut CodecDeserializer::new(&input));
    assert_eq!(hint.get(), Some(3));
    let error = decode::<Vec<u64>>(&[len(1 << 40), vec![0; 64]].concat()).unwrap_err();
    assert!(error.to_string().contains("is corrupt"), "{error}");
    let error = decode::<Vec<u64>>(&[len(20), vec![0; 64]].concat()).unwrap_err();
    assert!(error.to_string().contains("truncated"), "{error}");
}

/// Bytes that serialize with `serialize_bytes`, as `serde_bytes::ByteBuf` does.
#[derive(Debug, Clone, PartialEq)]
struct ByteBuf(Vec<u8>);

impl Serialize for ByteBuf {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for ByteBuf {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Bytes;
        impl Visitor<'_> for Bytes {
            type Value = ByteBuf;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes")
            }

            fn visit_bytes<E>(self, bytes: &[u8]) -> Result<ByteBuf, E> {
                Ok(ByteBuf(bytes.to_vec()))
            }
        }
        deserializer.deserialize_byte_buf(Bytes)
    }
}

/// Bytes borrowed from the input, as `serde_bytes::Bytes` does.
#[derive(Debug, PartialEq)]
struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Bytes<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Borrowed;
        impl<'de> Visitor<'de> for Borrowed {
            type Value = &'de [u8];

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("borrowed bytes")
            }

            fn visit_borrowed_bytes<E>(self, bytes: &'de [u8]) -> Result<&'de [u8], E> {
                Ok(bytes)
            }
        }
        deserializer.deserialize_bytes(Borrowed).map(Bytes)
    }
}
