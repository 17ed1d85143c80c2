//! The pieces every backend's expansion shares: the function users call, the companion with
//! `sync`, the batch and call helpers that the registry points at, registrations, option
//! values, and the stand-in emitted beside errors.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::{FnArg, Type};

use crate::parse::{Backend, ParallelFn, Settings};
use crate::values::Count;

/// `fn name(args) -> Future<R> { body }`, with the user's docs and a note on how it runs.
pub(crate) fn submitting_fn(func: &ParallelFn, body: TokenStream) -> TokenStream {
    let ParallelFn {
        cfgs,
        docs,
        types,
        names,
        output,
        ..
    } = func;
    let name = func.name();
    let vis = &func.item.vis;
    let generics = &func.item.sig.generics;
    let where_clause = &generics.where_clause;
    let note = format!(
        " Runs in parallel: calling `{name}(..)` submits the call and returns a \
         [`Future`](::parallel::Future) at once; `{name}::sync(..)` is the original, \
         synchronous function."
    );
    quote! {
        #(#cfgs)*
        #(#docs)*
        #[doc = ""]
        #[doc = #note]
        #vis fn #name #generics (#(#names: #types),*) -> ::parallel::Future<#output> #where_clause {
            #body
        }
    }
}

/// The hidden companion `struct name {}`: `sync` (the original function) and `items`.
pub(crate) fn companion(func: &ParallelFn, items: TokenStream) -> TokenStream {
    let ParallelFn {
        cfgs, docs, rest, ..
    } = func;
    let name = func.name();
    let vis = &func.item.vis;
    let sig = &func.item.sig;
    let (generics, body) = (&sig.generics, &func.item.block);
    let where_clause = &generics.where_clause;
    let (inputs, output) = (&sig.inputs, &sig.output);
    let deprecated = docs
        .iter()
        .filter(|attr| attr.path().is_ident("deprecated"));
    let sync_doc = format!(" The original `{name}`, run on the calling thread.");
    quote! {
        #(#cfgs)*
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #name {}

        #(#cfgs)*
        impl #name {
            #[doc = #sync_doc]
            #(#deprecated)*
            #(#rest)*
            #vis fn sync #generics (#inputs) #output #where_clause #body

            #items
        }
    }
}

/// The companion's `pool()`: the pool the function runs on (`pool_type`), with the
/// function's visibility, to read its size or shut it down. Its own pool is started by the
/// first call of either.
pub(crate) fn public_pool(func: &ParallelFn, pool_type: &TokenStream) -> TokenStream {
    let name = func.name();
    let vis = &func.item.vis;
    let doc = format!(
        " The pool `{name}` runs on: started by the first call if it is the function's own."
    );
    quote! {
        #[doc = #doc]
        #[allow(dead_code)]
        #vis fn pool() -> &'static #pool_type {
            #name::__pool()
        }
    }
}

/// `(T0, T1, ..)`: the argument tuple.
pub(crate) fn args_tuple(func: &ParallelFn) -> TokenStream {
    let types = &func.types;
    quote! { (#(#types,)*) }
}

/// The companion's `__batch` (the body over a map batch, inlined into the loop) and
/// `__call` (the body with its arguments as a tuple): what the registry points at.
pub(crate) fn batch_and_call(func: &ParallelFn) -> TokenStream {
    let ParallelFn { names, output, .. } = func;
    let name = func.name();
    let args = args_tuple(func);
    quote! {
        #[doc(hidden)]
        fn __batch(
            items: ::std::vec::Vec<#args>,
            values: ::std::vec::Vec<#output>,
        ) -> ::parallel::__private::threads::Batch<#args, #output> {
            ::parallel::__private::threads::run_batch(|(#(#names,)*)| #name::sync(#(#names),*), items, values)
        }

        #[doc(hidden)]
        fn __call((#(#names,)*): #args) -> #output {
            #name::sync(#(#names),*)
        }
    }
}

/// The registry entry that `pmap!` and `ProcessPool::submit` find the function by:
/// `description` is a `ThreadFn` or `ProcessFn` expression.
pub(crate) fn register_function(func: &ParallelFn, description: TokenStream) -> TokenStream {
    let name = func.name();
    let entry = quote! {
        ::parallel::__private::registry::ParallelEntry {
            type_id: || ::parallel::__private::registry::type_id_of(&#name),
            function: &#description,
        }
    };
    register(
        &func.cfgs,
        quote! { ::parallel::__private::registry::PARALLEL_FUNCTIONS },
        quote! { ::parallel::__private::registry::ParallelEntry },
        entry,
    )
}

/// One element of the linker-gathered slice `slice` (no code runs to add it), kept in the
/// program where a linker would drop it (`keep!`).
pub(crate) fn register(
    cfgs: &[syn::Attribute],
    slice: TokenStream,
    ty: TokenStream,
    value: TokenStream,
) -> TokenStream {
    quote! {
        #(#cfgs)*
        const _: () = {
            #[::parallel::__private::linkme::distributed_slice(#slice)]
            #[linkme(crate = ::parallel::__private::linkme)]
            static ENTRY: #ty = #value;
            ::parallel::__private::keep!(ENTRY);
        };
    }
}

/// `Some(Duration)` for `timeout = ".."`, else `None`.
pub(crate) fn timeout(settings: &Settings) -> TokenStream {
    match &settings.timeout {
        Some(timeout) => {
            let nanos = timeout.value.as_nanos() as u64;
            quote! { ::core::option::Option::Some(::core::time::Duration::from_nanos(#nanos)) }
        }
        None => quote! { ::core::option::Option::None },
    }
}

/// `Some(count)` or `None`; `owner` as for `count_value`.
pub(crate) fn count(count: Option<&Count>, owner: Option<&syn::Ident>) -> TokenStream {
    match count {
        Some(count) => {
            let count = count_value(count, owner);
            quote! { ::core::option::Option::Some(#count) }
        }
        None => quote! { ::core::option::Option::None },
    }
}

/// The name of the `const` that holds a count given as a constant expression, after its
/// word: `__PARALLEL_THREADS`.
fn count_const(key: &syn::Ident) -> syn::Ident {
    let name = format!("__PARALLEL_{}", key.to_string().to_uppercase());
    syn::Ident::new(&name, key.span())
}

/// A count as a `usize` expression: the literal, or the `const` that `count_items` declares
/// for the constant expression. `owner` is the function whose companion holds the constants
/// (`name::__PARALLEL_THREADS`); `None` in a `pmap!`, whose block holds them.
pub(crate) fn count_value(count: &Count, owner: Option<&syn::Ident>) -> TokenStream {
    match count {
        Count::Literal(count) => quote! { #count },
        Count::Const(_, _, key) => {
            let name = count_const(key);
            match owner {
                Some(owner) => quote! { #owner::#name },
                None => quote! { #name },
            }
        }
    }
}

/// The counts of `settings` that are constant expressions.
fn const_counts(settings: &Settings) -> impl Iterator<Item = (&syn::Expr, &String, &syn::Ident)> {
    [
        settings
            .threads
            .as_ref()
            .and_then(|count| count.value.as_ref()),
        settings
            .processes
            .as_ref()
            .and_then(|count| count.value.as_ref()),
        settings
            .max_tasks_per_child
            .as_ref()
            .map(|count| &count.value),
        settings.max_frame.as_ref().map(|count| &count.value),
        settings.chunksize.as_ref().map(|count| &count.value),
    ]
    .into_iter()
    .flatten()
    .filter_map(|count| match count {
        Count::Const(expr, message, key) => Some((&**expr, message, key)),
        Count::Literal(_) => None,
    })
}

/// `const __PARALLEL_THREADS: usize = EXPR;` for each count given as a constant expression:
/// spanned on the expression, so that a type other than `usize`, or an expression that is
/// not constant, is reported there, once. `associated` for a function's companion.
pub(crate) fn count_items(settings: &Settings, associated: bool) -> TokenStream {
    const_counts(settings)
        .map(|(expr, _, key)| {
            let name = count_const(key);
            let span = syn::spanned::Spanned::span(expr);
            let ty = quote_spanned! {span=> usize };
            let hidden = associated.then(|| quote! { #[doc(hidden)] });
            quote! { #hidden const #name: #ty = #expr; }
        })
        .collect()
}

/// For each count given as a constant expression, a `const _` whose assertion refuses 0 when
/// the compiler evaluates it (a `const` item is evaluated whether or not the code using the
/// count ever runs), spanned on the expression so that the error points there. `owner` is
/// the function whose companion holds the constants (`None` in a `pmap!` block). Emitted
/// beside the function or at the start of the block, so the error names no generated item.
pub(crate) fn count_checks(settings: &Settings, owner: Option<&syn::Ident>) -> Vec<TokenStream> {
    const_counts(settings)
        .map(|(expr, message, key)| {
            let path = count_value(
                &Count::Const(Box::new(expr.clone()), message.clone(), key.clone()),
                owner,
            );
            let span = syn::spanned::Spanned::span(expr);
            quote_spanned! {span=>
                const _: () = ::core::assert!(#path > 0, #message);
            }
        })
        .collect()
}

/// `MapOptions::new().chunksize(..).ordered(..).timeout(..)`, and `.pool(..)` for
/// `pool = P` or `threads = N`.
pub(crate) fn map_options(settings: &Settings) -> TokenStream {
    let mut tokens = quote! { ::parallel::__private::pmap::MapOptions::new() };
    if let Some(size) = &settings.chunksize {
        let size = count_value(&size.value, None);
        tokens.extend(quote! { .chunksize(#size) });
    }
    if let Some(ordered) = &settings.ordered {
        let ordered = ordered.value;
        tokens.extend(quote! { .ordered(#ordered) });
    }
    if let Some(timeout) = &settings.timeout {
        let nanos = timeout.value.as_nanos() as u64;
        tokens.extend(quote! { .timeout(::core::time::Duration::from_nanos(#nanos)) });
    }
    if let Some(pool) = &settings.map_pool {
        let pool = &pool.value;
        let span = syn::spanned::Spanned::span(pool);
        let given = quote_spanned! {span=> ::parallel::__private::pmap::given_pool(&(#pool)) };
        tokens.extend(quote! { .pool(#given) });
    }
    if let Some(threads) = &settings.threads {
        let workers = count(threads.value.as_ref(), None);
        tokens.extend(quote! {
            .pool({
                static POOL: ::parallel::__private::LazyLock<::parallel::ThreadPool> =
                    ::parallel::__private::LazyLock::new(|| {
                        ::parallel::__private::threads::thread_pool(#workers, "pmap", ::core::option::Option::None)
                    });
                ::parallel::__private::LazyLock::force(&POOL)
            })
        });
    }
    tokens
}

/// `map`, with a progress bar if `progress` was given.
pub(crate) fn with_progress(settings: &Settings, map: TokenStream) -> TokenStream {
    match settings.progress.as_ref().map(|progress| progress.value) {
        Some(true) => quote! { ::parallel::__private::pmap::progress(#map) },
        _ => map,
    }
}

/// A type as an explicit generic argument: itself, or `_` for `impl Trait` (which cannot be
/// named there, and which the closure that captures it checks instead).
pub(crate) fn nameable(ty: &Type) -> TokenStream {
    match ty {
        Type::ImplTrait(_) => quote! { _ },
        ty => ty.to_token_stream(),
    }
}

/// The stand-in for a function whose attribute has an error: the same name, arguments and
/// result as a correct expansion would give (`fn name(..) -> Future<R>` and `name::sync`),
/// with bodies that never run, so code calling it reports nothing more.
///
/// A method (the attribute misplaced inside an `impl`) stands as a method with the same
/// receiver, returning `Future<R>`, since calls of it expect a future.
pub(crate) fn stand_in(settings: &Settings, func: &ParallelFn) -> TokenStream {
    if let Some(FnArg::Receiver(receiver)) = func.item.sig.inputs.first() {
        return method_stand_in(func, receiver);
    }
    let pool_type = match settings.backend() {
        Backend::Processes(_) => quote! { ::parallel::ProcessPool },
        Backend::Mpi if cfg!(feature = "mpi") => quote! { ::parallel::MpiPool },
        Backend::Mpi => quote! { ::parallel::ProcessPool },
        _ => quote! { ::parallel::ThreadPool },
    };
    let ParallelFn {
        cfgs, docs, output, ..
    } = func;
    let name = func.name();
    let vis = &func.item.vis;
    let generics = &func.item.sig.generics;
    let where_clause = &generics.where_clause;
    let ignored: Vec<TokenStream> = func
        .item
        .sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(typed) => Some(&typed.ty),
            FnArg::Receiver(_) => None,
        })
        .map(|ty| quote! { _: #ty })
        .collect();
    quote! {
        #(#cfgs)*
        #(#docs)*
        #[allow(unused)]
        #vis fn #name #generics (#(#ignored),*) -> ::parallel::Future<#output> #where_clause {
            ::core::unimplemented!()
        }

        #(#cfgs)*
        #[doc(hidden)]
        #[allow(non_camel_case_types, unused)]
        #vis struct #name {}

        #(#cfgs)*
        #[allow(unused)]
        impl #name {
            #vis fn sync #generics (#(#ignored),*) -> #output #where_clause {
                ::core::unimplemented!()
            }

            #vis fn pool() -> &'static #pool_type {
                ::core::unimplemented!()
            }
        }
    }
}

/// The stand-in for a method under the attribute: `fn name(&self, ..) -> Future<R>`.
fn method_stand_in(func: &ParallelFn, receiver: &syn::Receiver) -> TokenStream {
    let ParallelFn {
        cfgs,
        docs,
        types,
        output,
        ..
    } = func;
    let name = func.name();
    let vis = &func.item.vis;
    let generics = &func.item.sig.generics;
    let where_clause = &generics.where_clause;
    quote! {
        #(#cfgs)*
        #(#docs)*
        #[allow(unused)]
        #vis fn #name #generics (#receiver, #(_: #types),*) -> ::parallel::Future<#output> #where_clause {
            ::core::unimplemented!()
        }
    }
}
