//! What a type needs to cross to a worker process and back, as traits whose compile errors
//! name the type and say what to do (`#[diagnostic::on_unimplemented]`), each encoding with
//! this codec and saying in its errors what could not be encoded or decoded.
//!
//! The traits carry the encoding as methods instead of having serde's traits as supertraits:
//! the compiler then reports a type that cannot travel with these messages, naming it,
//! rather than with serde's.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::numbers;
use crate::arity::arities;

/// A type that can travel to a worker process as an argument: every type with serde's
/// `Serialize` and `DeserializeOwned` that is `Send + 'static` (an owned value). Nothing to
/// implement: derive serde's traits and the blanket impl does the rest. It is public so that
/// a compile error can name it, and so that generic code can ask for it.
///
/// No supertraits: what it needs from serde is in its methods, so a type without serde's
/// traits is reported as not being a `ProcessArgument`, with this trait's message.
///
/// # Examples
///
/// ```
/// fn can_travel<T: parallel::ProcessArgument>() {}
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Config {
///     depth: u32,
/// }
///
/// can_travel::<Config>();
/// can_travel::<Vec<String>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot travel to a worker process",
    label = "`{Self}` must be serializable and own its data",
    note = "derive `serde::Serialize` and `serde::Deserialize` for it (or use a type that has them), and take owned values"
)]
pub trait ProcessArgument: Sized {
    /// How many bytes the encoding of `self` takes.
    #[doc(hidden)]
    fn encoded_len(&self) -> Result<usize, String>;
    /// Appends the encoding of `self` to `out`.
    #[doc(hidden)]
    fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), String>;
    /// Writes the encoding of `self` at the start of `out`; returns the bytes it took.
    #[doc(hidden)]
    fn encode_into_slice(&self, out: &mut [u8]) -> Result<usize, String>;
    /// Decodes one value from the front of `bytes`, returning the rest.
    #[doc(hidden)]
    fn decode_from(bytes: &[u8]) -> Result<(Self, &[u8]), String>;
}

// `do_not_recommend`: a type without serde's traits is reported as not being a
// `ProcessArgument` (this trait's message, once), not as two raw serde errors.
#[diagnostic::do_not_recommend]
impl<T: Serialize + DeserializeOwned + Send + 'static> ProcessArgument for T {
    fn encoded_len(&self) -> Result<usize, String> {
        if let Some(len) = numbers::encoded_len(self) {
            return Ok(len);
        }
        super::encoded_len(self).map_err(|error| format!("could not encode the arguments: {error}"))
    }

    fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), String> {
        if numbers::encode_into(self, out) {
            return Ok(());
        }
        super::encode_into(self, out)
            .map_err(|error| format!("could not encode the arguments: {error}"))
    }

    fn encode_into_slice(&self, out: &mut [u8]) -> Result<usize, String> {
        numbers::encode_into_slice(self, out)
            .unwrap_or_else(|| super::encode_into_slice(self, out))
            .map_err(|error| format!("could not encode the arguments: {error}"))
    }

    fn decode_from(bytes: &[u8]) -> Result<(Self, &[u8]), String> {
        numbers::decode_from(bytes)
            .unwrap_or_else(|| super::decode_from(bytes))
            .map_err(|error| format!("could not decode the arguments: {error}"))
    }
}

/// The argument tuple of a function run in worker processes. Encoded as its elements one
/// after the other (which is how the codec encodes a tuple), and a batch as a count followed
/// by its tuples.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "the arguments `{Self}` cannot travel to a worker process",
    label = "each argument must be serializable and own its data",
    note = "derive `serde::Serialize` and `serde::Deserialize` for each argument type"
)]
pub trait ProcessArguments: Send + Sized + 'static {
    /// How many bytes the encoded tuple takes.
    fn encoded_len(&self) -> Result<usize, String>;
    /// Appends the encoded tuple to `out`.
    fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), String>;
    /// Writes the encoded tuple at the start of `out` (sized with `encoded_len`); returns the
    /// bytes it took.
    fn encode_into_slice(&self, out: &mut [u8]) -> Result<usize, String>;
    /// Decodes one tuple from the front of `bytes`, returning the rest.
    fn decode_from(bytes: &[u8]) -> Result<(Self, &[u8]), String>;

    /// The encoded tuple.
    fn encode(&self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// The tuple from its encoding.
    fn decode(bytes: &[u8]) -> Result<Self, String> {
        let (value, rest) = Self::decode_from(bytes)?;
        all_read(rest)?;
        Ok(value)
    }

    /// A batch of tuples, encoded.
    fn encode_batch(batch: &[Self]) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        (batch.len() as u64).encode_into(&mut out)?;
        for item in batch {
            item.encode_into(&mut out)?;
        }
        Ok(out)
    }

    /// A batch of tuples from its encoding.
    fn decode_batch(bytes: &[u8]) -> Result<Vec<Self>, String> {
        let (count, mut rest) = u64::decode_from(bytes)?;
        // Each tuple takes at least one byte unless it is empty, so a count larger than the
        // input is corrupt: refuse it rather than reserving memory for it.
        let reserve = usize::try_from(count)
            .unwrap_or(usize::MAX)
            .min(rest.len().max(1));
        let mut batch = Vec::with_capacity(reserve);
        for _ in 0..count {
            let (item, next) = Self::decode_from(rest)?;
            batch.push(item);
            rest = next;
        }
        all_read(rest)?;
        Ok(batch)
    }
}

macro_rules! process_arguments {
    ($($n:literal [$submit:ident $zip:ident $pmap:ident] ($($ty:ident $arg:ident),*);)+) => {$(
        impl<$($ty: ProcessArgument + Send + 'static),*> ProcessArguments for ($($ty,)*) {
            #[allow(unused_variables)]
            fn encoded_len(&self) -> Result<usize, String> {
                let ($($arg,)*) = self;
                Ok(0 $(+ $arg.encoded_len()?)*)
            }

            #[allow(unused_variables)]
            fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), String> {
                let ($($arg,)*) = self;
                $($arg.encode_into(out)?;)*
                Ok(())
            }

            #[allow(unused_variables, unused_mut)]
            fn encode_into_slice(&self, out: &mut [u8]) -> Result<usize, String> {
                let ($($arg,)*) = self;
                let mut at = 0;
                $(at += $arg.encode_into_slice(out.get_mut(at..).unwrap_or_default())?;)*
                Ok(at)
            }

            fn decode_from(bytes: &[u8]) -> Result<(Self, &[u8]), String> {
                let rest = bytes;
                $(let ($arg, rest) = $ty::decode_from(rest)?;)*
                Ok((($($arg,)*), rest))
            }
        }
    )+};
}

arities!(process_arguments);

/// An item of a process map: the argument tuple of the function (`Args`), or the same
/// arguments borrowed: `&T` for a function of one `T` (a map over `data.iter()`), or a tuple
/// of references. A borrowed item is encoded from the borrow on the map's own thread, as
/// its batch is submitted, so no other thread ever holds it and no scope is needed.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an item of a map of a process function of `{Args}`",
    label = "give each item as the function's arguments",
    note = "an item is the argument tuple `{Args}`, a tuple of references to its elements, or, for a function of one argument, a reference to it"
)]
pub trait ProcessItem<Args>: Sized {
    /// A batch of items, encoded as a batch of `Args` would be.
    fn encode_items(batch: &[Self]) -> Result<Vec<u8>, String>;
}

impl<Args: ProcessArguments> ProcessItem<Args> for Args {
    fn encode_items(batch: &[Self]) -> Result<Vec<u8>, String> {
        Args::encode_batch(batch)
    }
}

impl<T: ProcessArgument + Send + 'static> ProcessItem<(T,)> for &T {
    fn encode_items(batch: &[Self]) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        (batch.len() as u64).encode_into(&mut out)?;
        for item in batch {
            ProcessArgument::encode_into(*item, &mut out)?;
        }
        Ok(out)
    }
}

macro_rules! borrowed_items {
    (0 $names:tt (); $($rest:tt)*) => { borrowed_items!($($rest)*); };
    ($($n:literal [$submit:ident $zip:ident $pmap:ident] ($($ty:ident $arg:ident),+);)+) => {$(
        impl<$($ty: ProcessArgument + Send + 'static),+> ProcessItem<($($ty,)+)> for ($(&$ty,)+) {
            fn encode_items(batch: &[Self]) -> Result<Vec<u8>, String> {
                let mut out = Vec::new();
                (batch.len() as u64).encode_into(&mut out)?;
                for ($($arg,)+) in batch {
                    $(ProcessArgument::encode_into(*$arg, &mut out)?;)+
                }
                Ok(out)
            }
        }
    )+};
}

arities!(borrowed_items);

/// An item of a batch that panicked in the worker: its position, the panic's message, and
/// where it was raised.
#[doc(hidden)]
pub type Failure = (u64, String, Option<String>);

/// A type that can come back from a worker process as a result: as [`ProcessArgument`], every
/// type with serde's `Serialize` and `DeserializeOwned` that is `Send + 'static`. Nothing to
/// implement. It is public so that a compile error can name it.
///
/// # Examples
///
/// ```
/// fn can_come_back<T: parallel::ProcessResult>() {}
///
/// can_come_back::<(u64, String)>();
/// can_come_back::<Option<Vec<f64>>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot come back from a worker process",
    label = "this type must be serializable and own its data",
    note = "derive `serde::Serialize` and `serde::Deserialize` for it (or use a type that has them)"
)]
pub trait ProcessResult: Send + Sized + 'static {
    /// The encoded value.
    #[doc(hidden)]
    fn encode(&self) -> Result<Vec<u8>, String>;
    /// The encoded value, in `out` (emptied first), whose memory it reuses when it fits.
    #[doc(hidden)]
    fn encode_reusing(&self, out: Vec<u8>) -> Result<Vec<u8>, String>;
    /// The value from its encoding.
    #[doc(hidden)]
    fn decode(bytes: &[u8]) -> Result<Self, String>;
    /// A batch's reply, encoded: the values, the failures, and the nanoseconds the batch
    /// took.
    #[doc(hidden)]
    fn encode_batch(values: &[Self], failures: &[Failure], nanos: u64) -> Result<Vec<u8>, String>;
    /// A batch's reply from its encoding.
    #[doc(hidden)]
    #[allow(clippy::type_complexity)]
    fn decode_batch(bytes: &[u8]) -> Result<(Vec<Self>, Vec<Failure>, u64), String>;
}

// As for `ProcessArgument`: one error, with this trait's message.
#[diagnostic::do_not_recommend]
impl<T: Serialize + DeserializeOwned + Send + 'static> ProcessResult for T {
    fn encode(&self) -> Result<Vec<u8>, String> {
        if let Some(len) = numbers::encoded_len(self) {
            let mut out = Vec::with_capacity(len);
            numbers::encode_into(self, &mut out);
            return Ok(out);
        }
        encode(self, "result")
    }

    fn encode_reusing(&self, mut out: Vec<u8>) -> Result<Vec<u8>, String> {
        let error = |error| format!("could not encode the result: {error}");
        out.clear();
        if let Some(len) = numbers::encoded_len(self) {
            out.reserve(len);
            numbers::encode_into(self, &mut out);
            return Ok(out);
        }
        out.reserve(super::encoded_len(self).map_err(error)?);
        super::encode_into(self, &mut out).map_err(error)?;
        Ok(out)
    }

    fn decode(bytes: &[u8]) -> Result<Self, String> {
        match numbers::decode_from(bytes) {
            Some(Ok((value, []))) => Ok(value),
            Some(Ok((_, rest))) => Err(format!(
                "could not decode the result: {} bytes were left over after the value",
                rest.len()
            )),
            Some(Err(error)) => Err(format!("could not decode the result: {error}")),
            None => decode(bytes, "result"),
        }
    }

    fn encode_batch(values: &[Self], failures: &[Failure], nanos: u64) -> Result<Vec<u8>, String> {
        encode(&(values, failures, nanos), "results")
    }

    fn decode_batch(bytes: &[u8]) -> Result<(Vec<Self>, Vec<Failure>, u64), String> {
        decode(bytes, "results")
    }
}

/// An error unless decoding the arguments left nothing of its input (`rest`).
fn all_read(rest: &[u8]) -> Result<(), String> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} bytes were left over after decoding the arguments",
            rest.len()
        ))
    }
}

/// Encodes `value`; an error names `what` could not be encoded, then says why (a failing
/// `Serialize`'s own message).
fn encode<T: Serialize + ?Sized>(value: &T, what: &str) -> Result<Vec<u8>, String> {
    super::encode(value).map_err(|error| format!("could not encode the {what}: {error}"))
}

/// Decodes a `T` that takes all of `bytes`; an error names `what` could not be decoded, then
/// says why (a failing `Deserialize`'s own message, or what was corrupt).
fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, String> {
    super::decode(bytes).map_err(|error| format!("could not decode the {what}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process_pool::codec;

    #[test]
    fn tuples_round_trip_as_the_codec_encodes_them() {
        let args = (7u64, "seven".to_owned(), vec![1.5f64, 2.5]);
        let bytes = ProcessArguments::encode(&args).unwrap();
        assert_eq!(
            bytes,
            codec::encode(&args).unwrap(),
            "same bytes as the whole tuple"
        );
        let each = [
            &7u64.to_le_bytes()[..],
            &5u64.to_le_bytes(),
            b"seven",
            &2u64.to_le_bytes(),
            &1.5f64.to_le_bytes(),
            &2.5f64.to_le_bytes(),
        ];
        assert_eq!(bytes, each.concat(), "the elements one after another");
        assert_eq!(
            <(u64, String, Vec<f64>) as ProcessArguments>::decode(&bytes).unwrap(),
            args
        );
        assert_eq!(ProcessArguments::encoded_len(&args).unwrap(), bytes.len());
        let empty = ProcessArguments::encode(&()).unwrap();
        assert!(empty.is_empty());
        assert!(<() as ProcessArguments>::decode(&empty).is_ok());
    }

    #[test]
    fn batches_round_trip() {
        let batch = vec![(1u32, 'a'), (2, 'b'), (3, 'c')];
        let bytes = <(u32, char) as ProcessArguments>::encode_batch(&batch).unwrap();
        assert_eq!(
            <(u32, char) as ProcessArguments>::decode_batch(&bytes).unwrap(),
            batch
        );
        let values = vec![10u8, 20];
        let failures = vec![(1u64, "boom".to_owned(), Some("src/lib.rs:1:1".to_owned()))];
        let reply = <u8 as ProcessResult>::encode_batch(&values, &failures, 99).unwrap();
        assert_eq!(
            <u8 as ProcessResult>::decode_batch(&reply).unwrap(),
            (values, failures, 99)
        );
    }

    #[test]
    fn corrupt_input_is_an_error_not_a_huge_allocation() {
        // A batch claiming u64::MAX tuples in a few bytes.
        let mut bytes = Vec::new();
        u64::MAX.encode_into(&mut bytes).unwrap();
        bytes.push(1);
        assert!(<(u8,) as ProcessArguments>::decode_batch(&bytes).is_err());
        assert!(
            <(u64,) as ProcessArguments>::decode(&[0xff]).is_err(),
            "truncated"
        );
        assert!(
            <(u8,) as ProcessArguments>::decode(&[1, 2]).is_err(),
            "trailing bytes"
        );
    }
}
