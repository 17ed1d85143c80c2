//! Tokens to the typed model: [`Settings`] (the attribute's and `pmap!`'s options, each value
//! converted once and kept with the word that set it), [`ParallelFn`] (the function under the
//! attribute) and [`Pmap`] (the macro's operands).
//!
//! Parsing checks the shape of the input and what each value means (a count, a duration, a
//! path); what settings mean together is checked in `validate`.

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, ToTokens};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::visit::Visit;
use syn::{Attribute, Expr, FnArg, Ident, ItemFn, LitStr, Pat, Path, ReturnType, Token, Type};

use crate::diagnostics::Diagnostics;
use crate::values::{self, Count};

/// One setting as written: `word` or `word = value`.
struct Arg {
    key: Ident,
    value: Option<Expr>,
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

/// A setting's value, with the word that set it (where errors about it point).
pub(crate) struct Spanned<T> {
    pub(crate) value: T,
    pub(crate) key: Ident,
}

impl<T> Spanned<T> {
    pub(crate) fn span(&self) -> Span {
        self.key.span()
    }
}

/// The settings of one `#[parallel(..)]` or `pmap!(..; ..)`, each converted once. A setting
/// the macro does not know was refused while parsing, so only known ones are ever set.
#[derive(Default)]
pub(crate) struct Settings {
    /// `threads` / `threads = N`: `None` inside for the default count.
    pub(crate) threads: Option<Spanned<Option<Count>>>,
    /// `processes` / `processes = N`.
    pub(crate) processes: Option<Spanned<Option<Count>>>,
    /// `mpi`: the worker ranks of an MPI job.
    pub(crate) mpi: Option<Spanned<()>>,
    /// `pool = PATH` (the attribute).
    pub(crate) pool: Option<Spanned<Path>>,
    /// `pool = P` (`pmap!`): any expression of a pool (a thread pool, or a process pool for
    /// a `#[parallel(processes)]` function).
    pub(crate) map_pool: Option<Spanned<Expr>>,
    /// `scope = s` (`pmap!` only): the scope whose pool runs the map.
    pub(crate) scope: Option<Spanned<Expr>>,
    pub(crate) name: Option<Spanned<LitStr>>,
    pub(crate) timeout: Option<Spanned<Duration>>,
    pub(crate) max_tasks_per_child: Option<Spanned<Count>>,
    /// `max_frame = BYTES` (processes).
    pub(crate) max_frame: Option<Spanned<Count>>,
    pub(crate) initializer: Option<Spanned<Path>>,
    pub(crate) retries: Option<Spanned<u32>>,
    pub(crate) chunksize: Option<Spanned<Count>>,
    pub(crate) ordered: Option<Spanned<bool>>,
    pub(crate) progress: Option<Spanned<bool>>,
    /// The words among `threads`, `processes`, `mpi`, `pool` and `scope` that were given, in
    /// order.
    pool_order: Vec<Ident>,
}

/// Where a function or a `pmap!` call runs, as its settings say.
pub(crate) enum Backend<'a> {
    /// The process-wide default thread pool.
    DefaultPool,
    /// Threads of its own, `None` for the default count.
    Threads(Option<&'a Count>),
    /// A thread pool the program declared.
    Declared(&'a Path),
    /// Worker processes of its own, `None` for one per core.
    Processes(Option<&'a Count>),
    /// The worker ranks of the MPI job the program runs in (local worker processes if none).
    Mpi,
    /// The pool of a scope, whose handle is this expression (`pmap!(..; scope = s)`): the
    /// map may borrow.
    Scoped(&'a Expr),
    /// A pool given to `pmap!` (`pmap!(..; pool = P)`; the options carry its expression).
    Given,
}

impl Settings {
    /// The backend the settings choose (`validate` has refused more than one).
    pub(crate) fn backend(&self) -> Backend<'_> {
        if let Some(processes) = &self.processes {
            Backend::Processes(processes.value.as_ref())
        } else if self.mpi.is_some() {
            Backend::Mpi
        } else if let Some(threads) = &self.threads {
            Backend::Threads(threads.value.as_ref())
        } else if let Some(pool) = &self.pool {
            Backend::Declared(&pool.value)
        } else if let Some(scope) = &self.scope {
            Backend::Scoped(&scope.value)
        } else if self.map_pool.is_some() {
            Backend::Given
        } else {
            Backend::DefaultPool
        }
    }

    /// The words of the settings that choose a pool, in the order given.
    pub(crate) fn pool_words(&self) -> &[Ident] {
        &self.pool_order
    }

    /// Converts `arg`'s value into its field; a value that means nothing is reported.
    /// The words that choose a pool are also kept in order, for `pool_words`.
    fn set(&mut self, arg: &Arg, what: &str, diag: &mut Diagnostics) {
        let key = &arg.key;
        let result = match key.to_string().as_str() {
            "threads" => values::count(&arg.key, &arg.value, "pool with no workers")
                .map(|v| self.threads = Some(at(key, v))),
            "processes" => values::count(&arg.key, &arg.value, "pool with no workers")
                .map(|v| self.processes = Some(at(key, v))),
            "mpi" => values::bare(&arg.key, &arg.value).map(|v| self.mpi = Some(at(key, v))),
            "pool" if what == PMAP_OPTION => values::expression(&arg.key, &arg.value, "POOL")
                .map(|v| self.map_pool = Some(at(key, v))),
            "pool" => {
                values::path(&arg.key, &arg.value, "MY_POOL").map(|v| self.pool = Some(at(key, v)))
            }
            "scope" => {
                values::expression(&arg.key, &arg.value, "s").map(|v| self.scope = Some(at(key, v)))
            }
            "name" => values::string(&arg.key, &arg.value).map(|v| self.name = Some(at(key, v))),
            "timeout" => {
                values::duration(&arg.key, &arg.value).map(|v| self.timeout = Some(at(key, v)))
            }
            "max_tasks_per_child" => {
                values::required_count(&arg.key, &arg.value, "worker that may run no task")
                    .map(|v| self.max_tasks_per_child = Some(at(key, v)))
            }
            "max_frame" => values::required_count(&arg.key, &arg.value, "frame of no bytes")
                .map(|v| self.max_frame = Some(at(key, v))),
            "initializer" => values::path(&arg.key, &arg.value, "setup")
                .map(|v| self.initializer = Some(at(key, v))),
            "retries" => {
                values::whole(&arg.key, &arg.value).map(|v| self.retries = Some(at(key, v)))
            }
            "chunksize" => values::required_count(&arg.key, &arg.value, "chunk of no items")
                .map(|v| self.chunksize = Some(at(key, v))),
            "ordered" => {
                values::flag(&arg.key, &arg.value).map(|v| self.ordered = Some(at(key, v)))
            }
            "progress" => {
                values::flag(&arg.key, &arg.value).map(|v| self.progress = Some(at(key, v)))
            }
            _ => unreachable!("only known words reach `set`"),
        };
        if let Err(error) = result {
            diag.push(error);
        } else if ["threads", "processes", "mpi", "pool", "scope"]
            .contains(&key.to_string().as_str())
        {
            self.pool_order.push(key.clone());
        }
    }
}

/// `value`, set by the word `key`.
fn at<T>(key: &Ident, value: T) -> Spanned<T> {
    Spanned {
        value,
        key: key.clone(),
    }
}

/// The settings the attribute knows, in the order its docs list them.
pub(crate) const ATTRIBUTE_KEYS: [&str; 10] = [
    "threads",
    "processes",
    "mpi",
    "pool",
    "name",
    "timeout",
    "max_tasks_per_child",
    "max_frame",
    "initializer",
    "retries",
];

/// What `pmap!`'s settings are called in messages (and how `settings` tells them apart).
pub(crate) const PMAP_OPTION: &str = "`pmap!` option";

/// The options `pmap!` knows.
pub(crate) const PMAP_KEYS: [&str; 10] = [
    "threads",
    "processes",
    "mpi",
    "pool",
    "scope",
    "chunksize",
    "ordered",
    "timeout",
    "progress",
    "retries",
];

/// Parses `word, word = value, ...` into settings. An unknown word is reported with the
/// closest known one and the full list; a repeated word on its second occurrence; a value
/// that means nothing on the value.
pub(crate) fn settings(
    tokens: TokenStream,
    known: &[&str],
    what: &str,
    diag: &mut Diagnostics,
) -> Settings {
    let mut settings = Settings::default();
    let list = match Punctuated::<Arg, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(list) => list,
        Err(error) => {
            diag.push(error);
            return settings;
        }
    };
    let mut seen: Vec<String> = Vec::new();
    for arg in list {
        let name = arg.key.to_string();
        if !known.contains(&name.as_str()) {
            diag.error(arg.key.span(), unknown(&name, known, what));
        } else if seen.contains(&name) {
            diag.error(arg.key.span(), format!("`{name}` is given twice; keep one"));
        } else {
            seen.push(name);
            settings.set(&arg, what, diag);
        }
    }
    settings
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

/// The function under `#[parallel]`, with the pieces the expansion repeats.
pub(crate) struct ParallelFn {
    /// The function as written.
    pub(crate) item: ItemFn,
    /// `#[cfg]`/`#[cfg_attr]`: repeated on every generated item.
    pub(crate) cfgs: Vec<Attribute>,
    /// Doc comments and `#[deprecated]`: on the function users call.
    pub(crate) docs: Vec<Attribute>,
    /// Everything else (`#[inline]`, `#[allow]`, …): on `sync`, which carries the body.
    pub(crate) rest: Vec<Attribute>,
    /// Argument types, in order (a receiver, refused by `validate`, is left out).
    pub(crate) types: Vec<Type>,
    /// A name for each argument: the user's where it is a plain name, else `__argN`.
    pub(crate) names: Vec<Ident>,
    /// The return type (`()` when none is written).
    pub(crate) output: Type,
    /// Generic, explicitly or through `impl Trait`: such a function cannot be registered.
    pub(crate) generic: bool,
}

impl ParallelFn {
    pub(crate) fn name(&self) -> &Ident {
        &self.item.sig.ident
    }

    fn new(item: ItemFn) -> Self {
        let (mut cfgs, mut docs, mut rest) = (Vec::new(), Vec::new(), Vec::new());
        for attr in &item.attrs {
            let path = attr.path();
            if path.is_ident("cfg") || path.is_ident("cfg_attr") {
                cfgs.push(attr.clone());
            } else if path.is_ident("doc") || path.is_ident("deprecated") {
                docs.push(attr.clone());
            } else {
                rest.push(attr.clone());
            }
        }
        let typed: Vec<&syn::PatType> = item
            .sig
            .inputs
            .iter()
            .filter_map(|input| match input {
                FnArg::Typed(typed) => Some(typed),
                FnArg::Receiver(_) => None,
            })
            .collect();
        let types = typed.iter().map(|typed| (*typed.ty).clone()).collect();
        let names = typed
            .iter()
            .enumerate()
            .map(|(index, typed)| match &*typed.pat {
                Pat::Ident(ident) if ident.subpat.is_none() && ident.by_ref.is_none() => {
                    ident.ident.clone()
                }
                _ => format_ident!("__arg{}", index),
            })
            .collect();
        let output = match &item.sig.output {
            ReturnType::Default => syn::parse_quote!(()),
            ReturnType::Type(_, ty) => (**ty).clone(),
        };
        let generic = is_generic(&item);
        Self {
            item,
            cfgs,
            docs,
            rest,
            types,
            names,
            output,
            generic,
        }
    }
}

/// Whether the function is generic, explicitly or through `impl Trait` (which no registered
/// description can name).
fn is_generic(func: &ItemFn) -> bool {
    struct FindImplTrait(bool);
    impl<'ast> Visit<'ast> for FindImplTrait {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut finder = FindImplTrait(false);
    finder.visit_signature(&func.sig);
    !func.sig.generics.params.is_empty() || finder.0
}

/// The item under `#[parallel]`: it must be a function.
pub(crate) fn function(item: TokenStream, diag: &mut Diagnostics) -> Option<ParallelFn> {
    match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Fn(function)) => Some(ParallelFn::new(function)),
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
    /// The tokens after `;`, parsed into `Settings` by `pmap_settings`.
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
            .starts_with("unknown argument `colour`; known: "));
    }

    #[test]
    fn values_are_converted_once_into_typed_fields() {
        let mut diag = Diagnostics::default();
        let tokens: TokenStream = syn::parse_quote!(threads = 4, timeout = "2s", name = "dl");
        let settings = settings(tokens, &ATTRIBUTE_KEYS, "argument", &mut diag);
        assert!(!diag.any());
        assert!(matches!(
            settings.threads.map(|s| s.value),
            Some(Some(Count::Literal(4)))
        ));
        assert_eq!(
            settings.timeout.map(|s| s.value),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            settings.name.map(|s| s.value.value()).as_deref(),
            Some("dl")
        );
    }
}
