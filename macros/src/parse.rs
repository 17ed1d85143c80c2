//! Tokens to `Args` (the attribute's and `pmap!`'s settings, each kept with its spans),
//! `ParallelFn` (the function under the attribute) and `Pmap` (the macro's operands).
//!
//! Parsing checks only the shape of the input; what the values mean is checked in
//! `validate`.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, ItemFn, Token};

use crate::diagnostics::Diagnostics;

/// One setting: `word` or `word = value`.
pub(crate) struct Arg {
    pub(crate) key: Ident,
    pub(crate) value: Option<Expr>,
}

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key: Ident = input.call(syn::ext::IdentExt::parse_any)?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(Self { key, value })
    }
}

/// The settings the attribute knows, in the order its docs list them.
pub(crate) const ATTRIBUTE_KEYS: [&str; 8] = [
    "threads",
    "processes",
    "pool",
    "name",
    "timeout",
    "max_tasks_per_child",
    "initializer",
    "retries",
];

/// The options `pmap!` knows.
pub(crate) const PMAP_KEYS: [&str; 7] = [
    "threads",
    "processes",
    "chunksize",
    "ordered",
    "timeout",
    "progress",
    "retries",
];

/// Settings by name; each appears at most once.
#[derive(Default)]
pub(crate) struct Args {
    args: Vec<Arg>,
}

impl Args {
    /// The setting named `key`, if given.
    pub(crate) fn get(&self, key: &str) -> Option<&Arg> {
        self.args.iter().find(|arg| arg.key == key)
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
}

/// Parses `word, word = value, ...`, keeping the known words. An unknown word is reported
/// with the closest known one and the full list; a repeated word on its second occurrence.
pub(crate) fn args(
    tokens: TokenStream,
    known: &[&str],
    what: &str,
    diag: &mut Diagnostics,
) -> Args {
    let list = match Punctuated::<Arg, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(list) => list,
        Err(error) => {
            diag.push(error);
            return Args::default();
        }
    };
    let mut args = Args::default();
    for arg in list {
        let name = arg.key.to_string();
        if !known.contains(&name.as_str()) {
            diag.error(arg.key.span(), unknown(&name, known, what));
        } else if args.has(&name) {
            diag.error(arg.key.span(), format!("`{name}` is given twice; keep one"));
        } else {
            args.args.push(arg);
        }
    }
    args
}

/// "unknown argument `threds`; did you mean `threads`? ..." with the whole list.
fn unknown(name: &str, known: &[&str], what: &str) -> String {
    let list = known
        .iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match known.iter().min_by_key(|key| distance(name, key)) {
        Some(close) if distance(name, close) <= 2 => {
            format!("unknown {what} `{name}`; did you mean `{close}`? (known: {list})")
        }
        _ => format!("unknown {what} `{name}`; known: {list}"),
    }
}

/// Levenshtein distance, for suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The item under `#[parallel]`: it must be a function.
pub(crate) fn function(item: TokenStream, diag: &mut Diagnostics) -> Option<ItemFn> {
    match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Fn(function)) => Some(function),
        Ok(other) => {
            diag.error_at(
                item_keyword(&other).unwrap_or_else(|| item.clone()),
                "`#[parallel]` goes on a free function (`fn`); this item is not one",
            );
            None
        }
        Err(error) => {
            diag.push(error);
            None
        }
    }
}

/// The tokens naming the kind of item (`struct`, `impl`, …), to underline.
fn item_keyword(item: &syn::Item) -> Option<TokenStream> {
    use quote::ToTokens;
    Some(match item {
        syn::Item::Struct(item) => item.struct_token.to_token_stream(),
        syn::Item::Enum(item) => item.enum_token.to_token_stream(),
        syn::Item::Impl(item) => item.impl_token.to_token_stream(),
        syn::Item::Trait(item) => item.trait_token.to_token_stream(),
        syn::Item::Const(item) => item.const_token.to_token_stream(),
        syn::Item::Static(item) => item.static_token.to_token_stream(),
        syn::Item::Mod(item) => item.mod_token.to_token_stream(),
        syn::Item::Type(item) => item.type_token.to_token_stream(),
        syn::Item::Use(item) => item.use_token.to_token_stream(),
        _ => return None,
    })
}

/// The operands of `pmap!(f, items...; options)`.
pub(crate) struct Pmap {
    pub(crate) func: Expr,
    pub(crate) iterables: Vec<Expr>,
    /// The tokens after `;`, parsed into `Args` by the caller.
    pub(crate) options: TokenStream,
    /// Where to point when no iterable is given: the end of the function operand.
    pub(crate) func_span: Span,
}

impl Parse for Pmap {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let func: Expr = input.parse()?;
        let func_span = syn::spanned::Spanned::span(&func);
        let mut iterables = Vec::new();
        while input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
            if input.is_empty() || input.peek(Token![;]) {
                break;
            }
            iterables.push(input.parse()?);
        }
        let options = if input.peek(Token![;]) {
            input.parse::<Token![;]>()?;
            input.parse()?
        } else if input.is_empty() {
            TokenStream::new()
        } else {
            return Err(
                input.error("expected `,` before the next iterable or `;` before the options")
            );
        };
        Ok(Self {
            func,
            iterables,
            options,
            func_span,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_word() {
        assert_eq!(distance("threds", "threads"), 1);
        let message = unknown("threds", &ATTRIBUTE_KEYS, "argument");
        assert!(message.starts_with("unknown argument `threds`; did you mean `threads`?"));
        assert!(unknown("colour", &ATTRIBUTE_KEYS, "argument")
            .starts_with("unknown argument `colour`; known:"));
    }
}
