//! The encoding of arguments and results between the pool and its workers: a compact binary
//! serde format of our own.
//!
//! Ours rather than postcard's, because postcard drops the message of
//! `serde::ser::Error::custom` and `serde::de::Error::custom` (a user's failing `Serialize`
//! reached the caller as "Serde Deserialization Error"): here every message is kept
//! ([`Error`]). bincode keeps messages but is unmaintained (RUSTSEC-2025-0141). The format is
//! fixed-width, so a number is one copy, with no varint loop, on the hot path of every task.
//!
//! # Format
//!
//! Not self-describing: the reader must know the type, as the pool always does.
//!
//! | serde data model | bytes |
//! |---|---|
//! | `u8`..`u128`, `i8`..`i128`, `f32`, `f64` | fixed width, little-endian |
//! | `bool` | one byte, 0 or 1 (anything else is an error) |
//! | `char` | its scalar value as a `u32` (a value that is not a scalar is an error) |
//! | `str`, bytes | the length in bytes as a `u64`, then the bytes (`str`: UTF-8, checked) |
//! | seq, map | the count of elements (entries) as a `u64`, then each element (key, value) |
//! | `Option` | 0 for `None`; 1 then the value for `Some` |
//! | unit, unit struct | nothing |
//! | newtype struct | its content |
//! | tuple, tuple struct, struct | the fields in order: no count, no names |
//! | enum variant | its index as a `u32`, then its content as above |
//!
//! A seq or map whose length serde does not know up front (`serialize_seq(None)`) gets a
//! placeholder count that is patched when it ends; measuring counts the same eight bytes.
//! A struct field skipped with `#[serde(skip_serializing_if)]` is an error: the reader, knowing
//! no names, would take the next field for it.
//!
//! `deserialize_any` and `deserialize_ignored_any` are errors: types that need them
//! (`#[serde(untagged)]`, `#[serde(flatten)]`, internally tagged enums) cannot travel to a
//! worker. An identifier is read as a `u32` variant index.
//!
//! Corrupt input is an error, never a panic: a length is checked against the bytes left before
//! anything is allocated for it, and a sequence's size hint never exceeds the bytes left.
//! Input left over is an error too: elements a visitor did not read, or bytes after the value
//! where one value must take all the input ([`decode`]). There is no limit on nesting: a value
//! nested deeper than the stack allows overflows it, on either side, as with postcard.
//!
//! Speed: a whole argument or result that is a `Vec` of fixed-width numbers is one copy of
//! its bytes each way (`numbers.rs`: same bytes as serde's path); numbers are single
//! fixed-width copies; encoding writes with `extend_from_slice`
//! into a buffer sized first ([`encoded_len`]); decoding slices with `split_at_checked` and
//! `split_first_chunk`, and keeps the position of a sequence in registers (`de::Items`).
//!
//! What the functions of a pool may take and return is said by the traits of `traits.rs`
//! ([`ProcessArgument`], [`ProcessArguments`], [`ProcessResult`]), which encode with this
//! format.

mod de;
mod error;
mod numbers;
mod ser;
mod traits;

use serde::{Deserialize, Serialize};

use self::de::Deserializer;
pub(crate) use self::error::Error;
use self::ser::{Count, Serializer, Slice};
pub use self::traits::{ProcessArgument, ProcessArguments, ProcessItem, ProcessResult};

/// How many bytes the encoding of `value` takes.
///
/// # Errors
///
/// What `value`'s `Serialize` reports, with its message.
pub(crate) fn encoded_len<T: Serialize + ?Sized>(value: &T) -> Result<usize, Error> {
    let mut count = Count::default();
    value.serialize(&mut Serializer::new(&mut count))?;
    Ok(count.bytes())
}

/// Appends the encoding of `value` to `out`.
///
/// # Errors
///
/// What `value`'s `Serialize` reports, with its message; `out` then holds part of an encoding.
pub(crate) fn encode_into<T: Serialize + ?Sized>(
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    value.serialize(&mut Serializer::new(out))
}

/// Writes the encoding of `value` at the start of `out` (sized with [`encoded_len`]) and
/// returns how many bytes it took.
///
/// # Errors
///
/// What `value`'s `Serialize` reports, with its message, or an encoding longer than `out`.
pub(crate) fn encode_into_slice<T: Serialize + ?Sized>(
    value: &T,
    out: &mut [u8],
) -> Result<usize, Error> {
    let mut slice = Slice::new(out);
    value.serialize(&mut Serializer::new(&mut slice))?;
    slice
        .written()
        .ok_or_else(|| Error::new("the value's encoding came out longer than measured".to_owned()))
}

/// The encoding of `value`, in a buffer measured first, so that it is allocated once.
///
/// # Errors
///
/// What `value`'s `Serialize` reports, with its message.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(encoded_len(value)?);
    encode_into(value, &mut out)?;
    Ok(out)
}

/// Decodes one value from the front of `bytes`, returning it and the bytes after it.
///
/// # Errors
///
/// Input that is not the encoding of a `T` (truncated, corrupt), or what `T`'s `Deserialize`
/// reports, with its message.
pub(crate) fn decode_from<'de, T: Deserialize<'de>>(
    bytes: &'de [u8],
) -> Result<(T, &'de [u8]), Error> {
    let mut deserializer = Deserializer::new(bytes);
    let value = T::deserialize(&mut deserializer)?;
    Ok((value, deserializer.rest()))
}

/// Decodes a value that takes all of `bytes`.
///
/// # Errors
///
/// As [`decode_from`], and bytes left over after the value.
pub(crate) fn decode<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, Error> {
    let (value, rest) = decode_from(bytes)?;
    if rest.is_empty() {
        Ok(value)
    } else {
        Err(Error::new(format!(
            "{} bytes were left over after the value",
            rest.len()
        )))
    }
}

#[cfg(test)]
mod tests;
