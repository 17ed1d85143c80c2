//! `Serializer`: writes a value in the format described in `codec`'s docs, into a `Vec<u8>`
//! or into a `Count` that only adds up how many bytes that would take.

use serde::ser::{self, Serialize};

use super::error::Error;

/// Where a `Serializer` puts the bytes: both the buffer and the measure see the same calls,
/// so a measured length is the encoded length by construction.
pub(crate) trait Output {
    /// Appends `bytes`.
    fn write(&mut self, bytes: &[u8]);
    /// How many bytes have been written so far (for `Vec`, since it was empty).
    fn position(&self) -> usize;
    /// Overwrites the eight-byte placeholder written at `at` with `count`.
    fn patch(&mut self, at: usize, count: u64);
}

impl Output for Vec<u8> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }

    #[inline]
    fn position(&self) -> usize {
        self.len()
    }

    fn patch(&mut self, at: usize, count: u64) {
        self[at..at + 8].copy_from_slice(&count.to_le_bytes());
    }
}

/// An `Output` over a slice sized first (`encoded_len`): shared memory, which cannot grow.
/// A value whose encoding comes out longer than measured (a `Serialize` that is not
/// deterministic) marks it `overflowed` rather than writing past the end.
pub(crate) struct Slice<'a> {
    bytes: &'a mut [u8],
    at: usize,
    overflowed: bool,
}

impl<'a> Slice<'a> {
    /// An output that writes `bytes` from the start.
    pub(crate) fn new(bytes: &'a mut [u8]) -> Self {
        Self {
            bytes,
            at: 0,
            overflowed: false,
        }
    }

    /// How many bytes were written, or `None` if the encoding did not fit.
    pub(crate) fn written(&self) -> Option<usize> {
        (!self.overflowed).then_some(self.at)
    }
}

impl Output for Slice<'_> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        match self.bytes.get_mut(self.at..self.at + bytes.len()) {
            Some(into) => {
                into.copy_from_slice(bytes);
                self.at += bytes.len();
            }
            None => self.overflowed = true,
        }
    }

    #[inline]
    fn position(&self) -> usize {
        self.at
    }

    fn patch(&mut self, at: usize, count: u64) {
        if let Some(into) = self.bytes.get_mut(at..at + 8) {
            into.copy_from_slice(&count.to_le_bytes());
        }
    }
}

/// An `Output` that keeps only the number of bytes written: what `encoded_len` measures with.
#[derive(Debug, Default)]
pub(crate) struct Count(usize);

impl Count {
    /// The bytes counted so far.
    pub(crate) fn bytes(&self) -> usize {
        self.0
    }
}

impl Output for Count {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }

    #[inline]
    fn position(&self) -> usize {
        self.0
    }

    /// The placeholder was counted when it was written; a count changes no length.
    #[inline]
    fn patch(&mut self, _at: usize, _count: u64) {}
}

/// Encodes values into `out`.
pub(crate) struct Serializer<'o, O> {
    out: &'o mut O,
}

impl<'o, O: Output> Serializer<'o, O> {
    /// A serializer appending to `out`.
    pub(crate) fn new(out: &'o mut O) -> Self {
        Self { out }
    }

    /// A length or count: a `u64`, which holds any `usize`.
    #[inline]
    fn length(&mut self, len: usize) {
        self.out.write(&(len as u64).to_le_bytes());
    }

    /// An enum variant's index.
    #[inline]
    fn variant(&mut self, index: u32) {
        self.out.write(&index.to_le_bytes());
    }
}

/// `serialize_<number>` methods writing the value's little-endian bytes.
macro_rules! numbers {
    ($($method:ident $ty:ty;)*) => {$(
        #[inline]
        fn $method(self, value: $ty) -> Result<(), Error> {
            self.out.write(&value.to_le_bytes());
            Ok(())
        }
    )*};
}

impl<'a, 'o, O: Output> ser::Serializer for &'a mut Serializer<'o, O> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Sequence<'a, 'o, O>;
    type SerializeTuple = Fields<'a, 'o, O>;
    type SerializeTupleStruct = Fields<'a, 'o, O>;
    type SerializeTupleVariant = Fields<'a, 'o, O>;
    type SerializeMap = Sequence<'a, 'o, O>;
    type SerializeStruct = Fields<'a, 'o, O>;
    type SerializeStructVariant = Fields<'a, 'o, O>;

    numbers! {
        serialize_u8 u8; serialize_u16 u16; serialize_u32 u32; serialize_u64 u64;
        serialize_u128 u128;
        serialize_i8 i8; serialize_i16 i16; serialize_i32 i32; serialize_i64 i64;
        serialize_i128 i128;
        serialize_f32 f32; serialize_f64 f64;
    }

    #[inline]
    fn serialize_bool(self, value: bool) -> Result<(), Error> {
        self.out.write(&[u8::from(value)]);
        Ok(())
    }

    #[inline]
    fn serialize_char(self, value: char) -> Result<(), Error> {
        self.serialize_u32(u32::from(value))
    }

    #[inline]
    fn serialize_str(self, value: &str) -> Result<(), Error> {
        self.serialize_bytes(value.as_bytes())
    }

    #[inline]
    fn serialize_bytes(self, value: &[u8]) -> Result<(), Error> {
        self.length(value.len());
        self.out.write(value);
        Ok(())
    }

    #[inline]
    fn serialize_none(self) -> Result<(), Error> {
        self.out.write(&[0]);
        Ok(())
    }

    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        self.out.write(&[1]);
        value.serialize(self)
    }

    #[inline]
    fn serialize_unit(self) -> Result<(), Error> {
        Ok(())
    }

    #[inline]
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        Ok(())
    }

    #[inline]
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
    ) -> Result<(), Error> {
        self.variant(index);
        Ok(())
    }

    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    #[inline]
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.variant(index);
        value.serialize(self)
    }

    #[inline]
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Ok(Sequence::begin(self, len))
    }

    #[inline]
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Ok(Fields { ser: self })
    }

    #[inline]
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Ok(Fields { ser: self })
    }

    #[inline]
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        self.variant(index);
        Ok(Fields { ser: self })
    }

    #[inline]
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Ok(Sequence::begin(self, len))
    }

    #[inline]
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Ok(Fields { ser: self })
    }

    #[inline]
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        self.variant(index);
        Ok(Fields { ser: self })
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}

/// The count of a seq or map, as `serialize_seq` / `serialize_map` gave it.
enum Announced {
    /// Known up front and already written.
    Known,
    /// Unknown: eight bytes were written at `at`, to be patched with `written` at the end.
    Placeholder { at: usize, written: u64 },
}

/// A seq or map being written: its count, then its elements (or entries).
///
/// A count given up front is written and trusted, not checked against the elements: serde's
/// own impls are exact, and a check would add a counter update to the loop that writes a
/// `Vec<f64>`, which is what the codec's speed is judged by. Only an unknown count is counted.
pub(crate) struct Sequence<'a, 'o, O> {
    ser: &'a mut Serializer<'o, O>,
    announced: Announced,
}

impl<'a, 'o, O: Output> Sequence<'a, 'o, O> {
    /// Writes the count of a sequence of `len` elements, or a placeholder for it.
    #[inline]
    fn begin(ser: &'a mut Serializer<'o, O>, len: Option<usize>) -> Self {
        let announced = match len {
            Some(len) => {
                ser.length(len);
                Announced::Known
            }
            None => {
                let at = ser.out.position();
                ser.out.write(&[0; 8]);
                Announced::Placeholder { at, written: 0 }
            }
        };
        Self { ser, announced }
    }

    /// Writes an element (or a key), counting it if the count is not known yet.
    #[inline]
    fn counted<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if let Announced::Placeholder { written, .. } = &mut self.announced {
            *written += 1;
        }
        value.serialize(&mut *self.ser)
    }

    /// Patches the placeholder with the count.
    #[inline]
    fn finish(self) -> Result<(), Error> {
        if let Announced::Placeholder { at, written } = self.announced {
            self.ser.out.patch(at, written);
        }
        Ok(())
    }
}

impl<O: Output> ser::SerializeSeq for Sequence<'_, '_, O> {
    type Ok = ();
    type Error = Error;

    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.counted(value)
    }

    #[inline]
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl<O: Output> ser::SerializeMap for Sequence<'_, '_, O> {
    type Ok = ();
    type Error = Error;

    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.counted(key)
    }

    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut *self.ser)
    }

    #[inline]
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

/// The fields of a tuple, struct or variant: written one after another, with no count, since
/// the reader's type knows how many there are.
pub(crate) struct Fields<'a, 'o, O> {
    ser: &'a mut Serializer<'o, O>,
}

/// The message for a struct field skipped with `skip_serializing_if`.
#[cold]
fn skipped(field: &'static str) -> Error {
    Error::new(format!(
        "field `{field}` was skipped (`#[serde(skip_serializing_if)]`), but values travel \
         without field names, so the reader would take the next field for it: drop the \
         attribute for types that go to a worker process"
    ))
}

/// The `Serialize*` traits whose fields are written in order and need no end.
macro_rules! fields {
    ($($trait:ident $method:ident;)*) => {$(
        impl<O: Output> ser::$trait for Fields<'_, '_, O> {
            type Ok = ();
            type Error = Error;

            #[inline]
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                value.serialize(&mut *self.ser)
            }

            #[inline]
            fn end(self) -> Result<(), Error> {
                Ok(())
            }
        }
    )*};
}

fields! {
    SerializeTuple serialize_element;
    SerializeTupleStruct serialize_field;
    SerializeTupleVariant serialize_field;
}

/// The `Serialize*` traits of structs: fields are written in order, without their names.
macro_rules! struct_fields {
    ($($trait:ident;)*) => {$(
        impl<O: Output> ser::$trait for Fields<'_, '_, O> {
            type Ok = ();
            type Error = Error;

            #[inline]
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                _key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                value.serialize(&mut *self.ser)
            }

            fn skip_field(&mut self, key: &'static str) -> Result<(), Error> {
                Err(skipped(key))
            }

            #[inline]
            fn end(self) -> Result<(), Error> {
                Ok(())
            }
        }
    )*};
}

struct_fields! {
    SerializeStruct;
    SerializeStructVariant;
}
