//! What a setting's value means: the conversions from a word's value to a count, a duration,
//! a string, a path or a flag. `parse` converts each value once, with these, and reports
//! their errors.

use std::time::Duration;

use syn::{Expr, ExprLit, ExprPath, Lit, LitStr, Path};

use crate::duration;
use proc_macro2::Ident;

type Result<T> = syn::Result<T>;

/// A count of at least 1: a literal, checked here, or a constant expression (`WORKERS`,
/// `2 * CORES`), checked by the compiler where the expansion evaluates it in a `const`.
#[derive(Clone)]
pub(crate) enum Count {
    /// `threads = 4`.
    Literal(usize),
    /// `threads = WORKERS`: the expression, the message of the compile-time assertion that it
    /// is not 0, and the word that set it.
    Const(Box<Expr>, String, Ident),
}

/// A whole number of at least 1, as in `threads = 4` or `threads = WORKERS` (a constant
/// expression of type `usize`); `Ok(None)` for the bare word (`threads`), meaning "the
/// default number". `what` completes "a pool with no … never runs anything". A literal that
/// is 0, negative, fractional or a string is refused here; a constant expression that is 0
/// is refused by the compiler, with the same message.
pub(crate) fn count(key: &Ident, value: &Option<Expr>, what: &str) -> Result<Option<Count>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let zero = format!("a {what} never runs anything; write `{key} = 1` or more");
    let whole = |example: &str| {
        syn::Error::new_spanned(
            value,
            format!("`{key}` takes a whole number: write `{key} = {example}`"),
        )
    };
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => match int.base10_parse::<usize>() {
            Ok(0) => Err(syn::Error::new_spanned(value, zero)),
            Ok(count) => Ok(Some(Count::Literal(count))),
            Err(_) => Err(whole("4")),
        },
        Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) => match text.value().trim().parse::<usize>() {
            Ok(count) if count > 0 => Err(whole(&count.to_string())),
            _ => Err(whole("4")),
        },
        Expr::Lit(_) => Err(whole("4")),
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            ..
        }) => Err(syn::Error::new_spanned(
            value,
            format!(
                "`{key}` counts something, so it cannot be negative: write `{key} = 1` or more"
            ),
        )),
        _ => {
            let text = quote::ToTokens::to_token_stream(value).to_string();
            Ok(Some(Count::Const(
                Box::new(value.clone()),
                // A literal `assert!` message is a format string: braces are doubled.
                format!("`{key} = {text}` is 0: {zero}")
                    .replace('{', "{{")
                    .replace('}', "}}"),
                key.clone(),
            )))
        }
    }
}

/// A count that must be written, as in `chunksize = 100`: the bare word is not enough.
pub(crate) fn required_count(key: &Ident, value: &Option<Expr>, what: &str) -> Result<Count> {
    count(key, value, what)?.ok_or_else(|| {
        syn::Error::new_spanned(key, format!("`{key}` needs a value: write `{key} = 100`"))
    })
}

/// A whole number that may be 0, as in `retries = 2`; the bare word is not enough.
pub(crate) fn whole(key: &Ident, value: &Option<Expr>) -> Result<u32> {
    let Some(value) = value else {
        return Err(syn::Error::new_spanned(
            key,
            format!("`{key}` needs a value: write `{key} = 2`"),
        ));
    };
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => int.base10_parse::<u32>().map_err(|_| {
            syn::Error::new_spanned(
                value,
                format!("`{key}` takes a whole number: write `{key} = 2`"),
            )
        }),
        _ => Err(syn::Error::new_spanned(
            value,
            format!("`{key}` takes a whole number: write `{key} = 2`"),
        )),
    }
}

/// A duration string, as in `timeout = "2s"`.
pub(crate) fn duration(key: &Ident, value: &Option<Expr>) -> Result<Duration> {
    let form = "such as \"2s\", \"500ms\" or \"1.5s\" (units: us, ms, s, m, h)";
    match value {
        Some(Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        })) => duration::parse(&text.value()).ok_or_else(|| {
            syn::Error::new_spanned(text, format!("`{key}` takes a duration above zero {form}"))
        }),
        Some(Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        })) => Err(syn::Error::new_spanned(
            int,
            format!(
                "`{key}` takes a duration with its unit: write `{key} = \"{}s\"`",
                int.base10_digits()
            ),
        )),
        Some(value) => Err(syn::Error::new_spanned(
            value,
            format!("`{key}` takes a duration string {form}: write `{key} = \"2s\"`"),
        )),
        None => Err(syn::Error::new_spanned(
            key,
            format!("`{key}` needs a value: write `{key} = \"2s\"`"),
        )),
    }
}

/// A string literal, as in `name = "download"`.
pub(crate) fn string(key: &Ident, value: &Option<Expr>) -> Result<LitStr> {
    match value {
        Some(Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        })) => Ok(text.clone()),
        Some(value) => Err(syn::Error::new_spanned(
            value,
            format!("`{key}` takes a string: write `{key} = \"download\"`"),
        )),
        None => Err(syn::Error::new_spanned(
            key,
            format!("`{key}` needs a value: write `{key} = \"download\"`"),
        )),
    }
}

/// A path, as in `pool = IO_POOL` or `initializer = setup`. `example` shows one.
pub(crate) fn path(key: &Ident, value: &Option<Expr>, example: &str) -> Result<Path> {
    match value {
        Some(Expr::Path(ExprPath {
            path, qself: None, ..
        })) => Ok(path.clone()),
        Some(value) => Err(syn::Error::new_spanned(
            value,
            format!("`{key}` takes a path: write `{key} = {example}`"),
        )),
        None => Err(syn::Error::new_spanned(
            key,
            format!("`{key}` needs a value: write `{key} = {example}`"),
        )),
    }
}

/// `true` or `false`; the bare word means `true`.
pub(crate) fn flag(key: &Ident, value: &Option<Expr>) -> Result<bool> {
    match value {
        None => Ok(true),
        Some(Expr::Lit(ExprLit {
            lit: Lit::Bool(value),
            ..
        })) => Ok(value.value),
        Some(value) => Err(syn::Error::new_spanned(
            value,
            format!("`{key}` takes `true` or `false`: write `{key} = false`"),
        )),
    }
}

/// A word that takes no value, as `mpi`: how many ranks run is the launcher's to say
/// (`mpirun -n 4`), not the program's.
pub(crate) fn bare(key: &Ident, value: &Option<Expr>) -> Result<()> {
    match value {
        None => Ok(()),
        Some(value) => Err(syn::Error::new_spanned(
            value,
            format!(
                "`{key}` takes no value: the launcher chooses how many ranks run (`mpirun -n 4 ./app`); write `{key}`"
            ),
        )),
    }
}

/// Any expression, as in `scope = s`. `example` shows one.
pub(crate) fn expression(key: &Ident, value: &Option<Expr>, example: &str) -> Result<Expr> {
    value.clone().ok_or_else(|| {
        syn::Error::new_spanned(
            key,
            format!("`{key}` needs a value: write `{key} = {example}`"),
        )
    })
}
