//! `Deserializer`: reads a value in the format described in `codec`'s docs from the front of
//! a byte slice, borrowing strings and bytes from it, and hands back the bytes after it.

use serde::de::value::U32Deserializer;
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::error::Error;

/// How many elements of no size (`()`, unit structs) a sequence may hold beyond the bytes
/// left to read; see `Deserializer::count`.
const ZERO_SIZED_SLACK: usize = 1 << 20;

/// Reads values from the front of `input`.
pub(crate) struct Deserializer<'de> {
    /// What has not been read yet.
    input: &'de [u8],
}

impl<'de> Deserializer<'de> {
    /// A deserializer reading from the front of `input`.
    pub(crate) fn new(input: &'de [u8]) -> Self {
        Self { input }
    }

    /// The bytes not read yet.
    pub(crate) fn rest(&self) -> &'de [u8] {
        self.input
    }

    /// The next `len` bytes.
    #[inline]
    fn take(&mut self, len: usize) -> Result<&'de [u8], Error> {
        let Some((taken, rest)) = self.input.split_at_checked(len) else {
            return Err(truncated(len, self.input.len()));
        };
        self.input = rest;
        Ok(taken)
    }

    /// The next `N` bytes, as an array (what a number is read from).
    #[inline]
    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let Some((taken, rest)) = self.input.split_first_chunk::<N>() else {
            return Err(truncated(N, self.input.len()));
        };
        self.input = rest;
        Ok(*taken)
    }

    /// The next byte.
    #[inline]
    fn byte(&mut self) -> Result<u8, Error> {
        self.array::<1>().map(|[byte]| byte)
    }

    /// A length or count (a `u64`), as a `usize`.
    #[inline]
    fn length(&mut self) -> Result<usize, Error> {
        let len = u64::from_le_bytes(self.array()?);
        usize::try_from(len).map_err(|_| {
            Error::new(format!(
                "a length of {len} does not fit in this platform's memory"
            ))
        })
    }

    /// The element count of a sequence or map. Every element but one of no size takes at
    /// least a byte, so a count far beyond the bytes left is corrupt: refused here rather
    /// than looped over (a count of 2⁶⁴ for a `Vec<()>` would otherwise spin for ever).
    /// Elements of no size are allowed up to `ZERO_SIZED_SLACK` beyond the bytes left.
    #[inline]
    fn count(&mut self) -> Result<usize, Error> {
        let len = self.length()?;
        let left = self.input.len();
        if len > left.saturating_add(ZERO_SIZED_SLACK) {
            return Err(Error::new(format!(
                "a count of {len} elements with {left} bytes left is corrupt"
            )));
        }
        Ok(len)
    }

    /// A length, then that many bytes. A corrupt length fails here, before anything is
    /// allocated for it, because the bytes must all be present.
    #[inline]
    fn bytes(&mut self) -> Result<&'de [u8], Error> {
        let len = self.length()?;
        self.take(len)
    }

    /// A `str`: its bytes, checked to be UTF-8.
    #[inline]
    fn str(&mut self) -> Result<&'de str, Error> {
        std::str::from_utf8(self.bytes()?)
            .map_err(|error| Error::new(format!("a string is not UTF-8: {error}")))
    }

    /// Hands `visitor` the `len` elements (or entries) that follow, then checks it read them
    /// all: any left would be taken for the values after them.
    #[inline]
    fn items<V: Visitor<'de>>(
        &mut self,
        len: usize,
        visitor: V,
        visit: impl FnOnce(V, Items<'_, 'de>) -> Result<V::Value, Error>,
    ) -> Result<V::Value, Error> {
        let mut unread = None;
        let items = Items {
            input: self.input,
            left: len,
            back: &mut self.input,
            unread: &mut unread,
        };
        let value = visit(visitor, items)?;
        match unread {
            Some(0) => Ok(value),
            Some(left) => Err(Error::new(format!("a visitor left {left} elements unread"))),
            None => Err(Error::new(
                "a visitor kept a sequence instead of dropping it",
            )),
        }
    }

    /// `items` for a seq, tuple or struct.
    #[inline]
    fn elements<V: Visitor<'de>>(&mut self, len: usize, visitor: V) -> Result<V::Value, Error> {
        self.items(len, visitor, |visitor, items| visitor.visit_seq(items))
    }
}

/// The input ended `needed - left` bytes early.
#[cold]
fn truncated(needed: usize, left: usize) -> Error {
    Error::new(format!(
        "the input is truncated or corrupt: {needed} bytes needed, {left} left"
    ))
}

/// What `deserialize_any` and `deserialize_ignored_any` answer.
#[cold]
fn not_self_describing() -> Error {
    Error::new(
        "values travel to and from worker processes in a format that is not self-describing, \
         so a type must say what it expects: avoid `#[serde(untagged)]`, `#[serde(flatten)]`, \
         internally tagged enums (`#[serde(tag = ...)]`) and `deserialize_any`",
    )
}

/// `deserialize_<number>` methods reading the value's little-endian bytes.
macro_rules! numbers {
    ($($method:ident $visit:ident $ty:ty;)*) => {$(
        #[inline]
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            visitor.$visit(<$ty>::from_le_bytes(self.array()?))
        }
    )*};
}

impl<'de> de::Deserializer<'de> for &mut Deserializer<'de> {
    type Error = Error;

    numbers! {
        deserialize_u8 visit_u8 u8; deserialize_u16 visit_u16 u16;
        deserialize_u32 visit_u32 u32; deserialize_u64 visit_u64 u64;
        deserialize_u128 visit_u128 u128;
        deserialize_i8 visit_i8 i8; deserialize_i16 visit_i16 i16;
        deserialize_i32 visit_i32 i32; deserialize_i64 visit_i64 i64;
        deserialize_i128 visit_i128 i128;
        deserialize_f32 visit_f32 f32; deserialize_f64 visit_f64 f64;
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
        Err(not_self_describing())
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
        Err(not_self_describing())
    }

    #[inline]
    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.byte()? {
            0 => visitor.visit_bool(false),
            1 => visitor.visit_bool(true),
            other => Err(Error::new(format!("{other} is not a bool (0 or 1)"))),
        }
    }

    #[inline]
    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let value = u32::from_le_bytes(self.array()?);
        match char::from_u32(value) {
            Some(value) => visitor.visit_char(value),
            None => Err(Error::new(format!(
                "{value:#x} is not a char (a Unicode scalar value)"
            ))),
        }
    }

    #[inline]
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_str(self.str()?)
    }

    #[inline]
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_str(self.str()?)
    }

    #[inline]
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_bytes(self.bytes()?)
    }

    #[inline]
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_bytes(self.bytes()?)
    }

    #[inline]
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.byte()? {
            0 => visitor.visit_none(),
            1 => visitor.visit_some(self),
            other => Err(Error::new(format!(
                "{other} is not an Option tag (0 for None, 1 for Some)"
            ))),
        }
    }

    #[inline]
    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    #[inline]
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    #[inline]
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    #[inline]
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let len = self.count()?;
        self.elements(len, visitor)
    }

    #[inline]
    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        self.elements(len, visitor)
    }

    #[inline]
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.elements(len, visitor)
    }

    #[inline]
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let len = self.count()?;
        self.items(len, visitor, |visitor, items| visitor.visit_map(items))
    }

    #[inline]
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.elements(fields.len(), visitor)
    }

    #[inline]
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(self)
    }

    /// Identifiers are variant indices: struct fields travel without names.
    #[inline]
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_u32(u32::from_le_bytes(self.array()?))
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}

impl<'de> de::EnumAccess<'de> for &mut Deserializer<'de> {
    type Error = Error;
    type Variant = Self;

    /// The variant's index, handed to `seed` as a plain `u32` whatever it asks for, since
    /// that is all the encoding has.
    #[inline]
    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self), Error> {
        let index: U32Deserializer<Error> = u32::from_le_bytes(self.array()?).into_deserializer();
        Ok((seed.deserialize(index)?, self))
    }
}

impl<'de> de::VariantAccess<'de> for &mut Deserializer<'de> {
    type Error = Error;

    #[inline]
    fn unit_variant(self) -> Result<(), Error> {
        Ok(())
    }

    #[inline]
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, Error> {
        seed.deserialize(self)
    }

    #[inline]
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        self.elements(len, visitor)
    }

    #[inline]
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.elements(fields.len(), visitor)
    }
}

/// The elements of a seq, tuple or struct, or the entries of a map, still to be read.
///
/// Holds its own copy of the position and hands it back when the visitor drops it: a visitor
/// takes this by value, so in a loop over elements the position stays in registers, where a
/// position behind a pointer would be stored and loaded again for every element (decoding
/// an 8 MB `Vec<f64>` took half as long again that way, and was slower than postcard).
struct Items<'a, 'de> {
    /// What has not been read yet.
    input: &'de [u8],
    /// Elements (or entries) not read yet.
    left: usize,
    /// Where `input` goes back to.
    back: &'a mut &'de [u8],
    /// Where `left` goes back to: `None` until this is dropped.
    unread: &'a mut Option<usize>,
}

impl<'de> Items<'_, 'de> {
    /// Reads one value with `seed`, from a deserializer of its own (a copy of the position).
    #[inline]
    fn read<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        let mut de = Deserializer::new(self.input);
        let value = seed.deserialize(&mut de)?;
        self.input = de.input;
        Ok(value)
    }

    /// The next element, or key, if any is left.
    #[inline]
    fn next<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, Error> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        self.read(seed).map(Some)
    }

    /// At most the bytes left: a corrupt count must not reserve memory the input cannot fill.
    /// (Only elements of zero size take no bytes, and a hint may be low.)
    #[inline]
    fn hint(&self) -> Option<usize> {
        Some(self.left.min(self.input.len()))
    }
}

impl Drop for Items<'_, '_> {
    fn drop(&mut self) {
        *self.back = self.input;
        *self.unread = Some(self.left);
    }
}

impl<'de> de::SeqAccess<'de> for Items<'_, 'de> {
    type Error = Error;

    #[inline]
    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        self.next(seed)
    }

    #[inline]
    fn size_hint(&self) -> Option<usize> {
        self.hint()
    }
}

impl<'de> de::MapAccess<'de> for Items<'_, 'de> {
    type Error = Error;

    #[inline]
    fn next_key_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        self.next(seed)
    }

    #[inline]
    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        self.read(seed)
    }

    #[inline]
    fn size_hint(&self) -> Option<usize> {
        self.hint()
    }
}
