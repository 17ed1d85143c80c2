//! One copy for a `Vec` of fixed-width numbers (`Vec<f64>`, `Vec<u8>`, `Vec<i32>`, ...), when it
//! is a whole argument or a whole result: large payloads are mostly such arrays, and serde
//! moves them one element at a time (about 1.5 ns each way per element, where copying the
//! bytes takes a tenth of that). The bytes are the same as serde's path writes (the count as a
//! `u64`, then each number little-endian), so either side may take either path. Known by the
//! value's `TypeId`: a `Vec` inside another value takes serde's path. Only on little-endian
//! targets, where a number's bytes in memory are its encoding.

use std::any::{Any, TypeId};
use std::mem::size_of;

use super::error::Error;

/// A fixed-width number whose bytes in memory are its encoding (on little-endian targets).
///
/// # Safety
///
/// Implement only for types with no padding, for which every bit pattern is a valid value
/// (the primitive integers and floats).
unsafe trait Number: Copy + 'static {}

macro_rules! numbers {
    ($($ty:ty)*) => {
        // SAFETY: primitive integers and floats have no padding, and every bit pattern is
        // one of their values.
        $(unsafe impl Number for $ty {})*

        /// The count and bytes of `value` if it is a `Vec` of numbers.
        fn vector<T: 'static>(value: &T) -> Option<(usize, &[u8])> {
            let value: &dyn Any = value;
            $(
                if let Some(vector) = value.downcast_ref::<Vec<$ty>>() {
                    return Some((vector.len(), bytes_of(vector)));
                }
            )*
            None
        }

        /// A `T` read from the front of `bytes`, if `T` is a `Vec` of numbers.
        fn read<T: 'static>(bytes: &[u8]) -> Option<Result<(T, &[u8]), Error>> {
            $(
                if TypeId::of::<T>() == TypeId::of::<Vec<$ty>>() {
                    return Some(read_vector::<$ty>(bytes).map(|(vector, rest)| (cast(vector), rest)));
                }
            )*
            None
        }
    };
}

#[cfg(target_endian = "little")]
numbers! { u8 i8 u16 i16 u32 i32 u64 i64 f32 f64 }

/// How many bytes `value` takes, if it is a `Vec` of numbers.
#[inline]
pub(crate) fn encoded_len<T: 'static>(value: &T) -> Option<usize> {
    #[cfg(target_endian = "little")]
    return vector(value).map(|(_, bytes)| 8 + bytes.len());
    #[cfg(not(target_endian = "little"))]
    return None;
}

/// Appends the encoding of `value` to `out`, if it is a `Vec` of numbers (`false` if not).
#[inline]
pub(crate) fn encode_into<T: 'static>(value: &T, out: &mut Vec<u8>) -> bool {
    #[cfg(target_endian = "little")]
    if let Some((count, bytes)) = vector(value) {
        out.extend_from_slice(&(count as u64).to_le_bytes());
        out.extend_from_slice(bytes);
        return true;
    }
    let _ = (value, out);
    false
}

/// Writes the encoding of `value` at the start of `out` and returns its length, if `value`
/// is a `Vec` of numbers; an error if `out` is too short.
#[inline]
pub(crate) fn encode_into_slice<T: 'static>(
    value: &T,
    out: &mut [u8],
) -> Option<Result<usize, Error>> {
    #[cfg(target_endian = "little")]
    if let Some((count, bytes)) = vector(value) {
        let len = 8 + bytes.len();
        let Some(into) = out.get_mut(..len) else {
            return Some(Err(Error::new(
                "the value's encoding came out longer than measured".to_owned(),
            )));
        };
        into[..8].copy_from_slice(&(count as u64).to_le_bytes());
        into[8..].copy_from_slice(bytes);
        return Some(Ok(len));
    }
    let _ = (value, out);
    None
}

/// A `T` decoded from the front of `bytes`, with the bytes after it, if `T` is a `Vec` of
/// numbers.
#[inline]
pub(crate) fn decode_from<T: 'static>(bytes: &[u8]) -> Option<Result<(T, &[u8]), Error>> {
    #[cfg(target_endian = "little")]
    return read(bytes);
    #[cfg(not(target_endian = "little"))]
    {
        let _ = bytes;
        None
    }
}

/// The bytes of `numbers` in memory.
#[cfg(target_endian = "little")]
fn bytes_of<N: Number>(numbers: &[N]) -> &[u8] {
    // SAFETY: `numbers` is `size_of_val(numbers)` initialised bytes with no padding
    // (`Number`), borrowed for as long as the result.
    unsafe { std::slice::from_raw_parts(numbers.as_ptr().cast(), size_of_val(numbers)) }
}

/// A `Vec<N>` read from the front of `bytes` (a `u64` count, then the numbers), and the rest.
/// A count the bytes cannot hold is an error, found before anything is allocated.
#[cfg(target_endian = "little")]
fn read_vector<N: Number>(bytes: &[u8]) -> Result<(Vec<N>, &[u8]), Error> {
    let truncated = |needed: u128| {
        Error::new(format!(
            "the input is truncated or corrupt: {needed} bytes needed, {} left",
            bytes.len()
        ))
    };
    let Some((count, rest)) = bytes.split_first_chunk::<8>() else {
        return Err(truncated(8));
    };
    let count = u64::from_le_bytes(*count);
    let size = u128::from(count) * size_of::<N>() as u128;
    let Some((numbers, rest)) = usize::try_from(size)
        .ok()
        .and_then(|size| rest.split_at_checked(size))
    else {
        return Err(truncated(8 + size));
    };
    let count = numbers.len() / size_of::<N>();
    let mut vector = Vec::<N>::with_capacity(count);
    // SAFETY: `vector` has room for `count` numbers, `numbers.len()` bytes, which the copy
    // fills from `numbers` (another allocation); every bit pattern is a valid `N`
    // (`Number`), so the first `count` elements are initialised before `set_len`.
    unsafe {
        std::ptr::copy_nonoverlapping(
            numbers.as_ptr(),
            vector.as_mut_ptr().cast::<u8>(),
            numbers.len(),
        );
        vector.set_len(count);
    }
    Ok((vector, rest))
}

/// `value` as a `B`, which the caller knows is its type (`TypeId`s equal).
#[cfg(target_endian = "little")]
fn cast<A: 'static, B: 'static>(value: A) -> B {
    let mut slot = Some(value);
    (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<B>>()
        .and_then(Option::take)
        .expect("the caller compared the types")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process_pool::codec;

    #[test]
    fn vectors_of_numbers_encode_as_serde_does() {
        let floats = vec![1.5f64, -2.25, f64::MAX];
        assert_eq!(
            encoded_len(&floats),
            Some(codec::encoded_len(&floats).unwrap())
        );
        let mut fast = Vec::new();
        assert!(encode_into(&floats, &mut fast));
        assert_eq!(fast, codec::encode(&floats).unwrap());
        let mut slice = vec![0; fast.len()];
        assert_eq!(
            encode_into_slice(&floats, &mut slice).unwrap().unwrap(),
            fast.len()
        );
        assert_eq!(slice, fast);
        let (back, rest): (Vec<f64>, _) = decode_from(&fast).unwrap().unwrap();
        assert_eq!((back, rest), (floats, &[][..]));
        let small = vec![7i16, -1];
        let (back, _): (Vec<i16>, _) = decode_from(&codec::encode(&small).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(back, small);
    }

    #[test]
    fn other_types_take_serde_s_path() {
        assert_eq!(encoded_len(&vec!['a']), None);
        assert_eq!(encoded_len(&7u64), None);
        assert!(decode_from::<Vec<String>>(&[0; 8]).is_none());
    }

    #[test]
    fn a_count_the_bytes_cannot_hold_is_an_error() {
        let mut bytes = u64::MAX.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[0; 16]);
        assert!(decode_from::<Vec<f64>>(&bytes).unwrap().is_err());
        assert!(decode_from::<Vec<u8>>(&[1, 0, 0]).unwrap().is_err());
        let mut short = 3u64.to_le_bytes().to_vec();
        short.extend_from_slice(&[0; 23]);
        assert!(decode_from::<Vec<f64>>(&short).unwrap().is_err());
        assert!(encode_into_slice(&vec![1.0f64], &mut [0; 15])
            .unwrap()
            .is_err());
    }
}
