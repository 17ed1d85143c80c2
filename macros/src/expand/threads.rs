//! The thread backends: a function on the default pool, on threads of its own, or on a
//! declared pool; and `pmap!` on threads.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::Expr;

use super::parts;
use crate::parse::{Backend, ParallelFn, Pmap, Settings};

/// The expansion of `#[parallel]`, `#[parallel(threads ..)]` or `#[parallel(pool = P)]`.
pub(crate) fn attribute(
    settings: &Settings,
    backend: &Backend<'_>,
    func: &ParallelFn,
) -> TokenStream {
    let submit = parts::submitting_fn(func, submit_body(settings, func));
    let pool = pool(settings, backend, func);
    let public = parts::public_pool(func, &quote! { ::parallel::ThreadPool });
    let mut items = quote! {
        #[doc(hidden)]
        fn __pool() -> &'static ::parallel::ThreadPool {
            #pool
        }

        #public
    };
    items.extend(parts::count_items(settings, true));
    let mut registration = TokenStream::new();
    if !func.generic {
        items.extend(parts::batch_and_call(func));
        registration = register(func);
    }
    let companion = parts::companion(func, items);
    quote! { #submit #companion #registration }
}

/// Submits `sync` to the pool through `submitN`, whose explicit type arguments carry the
/// user's spans: a type that cannot cross threads is reported once, on that type.
fn submit_body(settings: &Settings, func: &ParallelFn) -> TokenStream {
    let name = func.name();
    let names = &func.names;
    let submit = format_ident!("submit{}", names.len());
    let types = func.types.iter().map(parts::nameable);
    let output = parts::nameable(&func.output);
    let timeout = parts::timeout(settings);
    quote! {
        ::parallel::__private::threads::#submit::<#(#types,)* #output, _>(
            #name::__pool(),
            #timeout,
            #name::sync,
            #(#names),*
        )
    }
}

/// The pool the function runs on: its own (made on the first call), a declared one, or the
/// default pool.
fn pool(settings: &Settings, backend: &Backend<'_>, func: &ParallelFn) -> TokenStream {
    let workers = match backend {
        Backend::Declared(path) => {
            return quote! { ::parallel::__private::threads::pool_of(&#path) }
        }
        Backend::Threads(workers) => parts::count(*workers, Some(func.name())),
        // `scope` and `pool = expression` are no attribute settings: only `pmap!` has
        // `Scoped` and `Given`.
        Backend::DefaultPool
        | Backend::Processes(_)
        | Backend::Mpi
        | Backend::Scoped(_)
        | Backend::Given => return quote! { ::parallel::default_pool() },
    };
    let prefix = match &settings.name {
        Some(name) => name.value.value(),
        None => func.name().to_string(),
    };
    let initializer = match &settings.initializer {
        Some(path) => {
            let path = &path.value;
            quote! { ::core::option::Option::Some({ let initializer: fn() = #path; initializer }) }
        }
        None => quote! { ::core::option::Option::None },
    };
    quote! {
        static POOL: ::parallel::__private::LazyLock<::parallel::ThreadPool> =
            ::parallel::__private::LazyLock::new(|| {
                ::parallel::__private::threads::thread_pool(#workers, #prefix, #initializer)
            });
        ::parallel::__private::LazyLock::force(&POOL)
    }
}

/// The registry entry: the function's pool and its body in batches.
fn register(func: &ParallelFn) -> TokenStream {
    let name = func.name();
    let (args, output) = (parts::args_tuple(func), &func.output);
    parts::register_function(
        func,
        quote! {
            ::parallel::__private::threads::ThreadFn::<#args, #output> {
                pool: #name::__pool,
                batch: #name::__batch,
                call: #name::__call,
            }
        },
    )
}

/// `pmap!` on the default pool, the function's own pool, or `threads = N`: a closure through
/// `pmapN` (which infers its argument types); a path through the registry dispatch, which
/// runs a `#[parallel]` function's body in batches on its pool and anything else on the
/// default pool.
pub(crate) fn pmap(input: &Pmap, settings: &Settings) -> TokenStream {
    let options = parts::map_options(settings);
    let iterables = &input.iterables;
    let arity = iterables.len();
    match &input.func {
        Expr::Closure(closure) => {
            let run = format_ident!("pmap{}", arity);
            quote! { ::parallel::__private::pmap::#run(#closure, #(#iterables,)* #options) }
        }
        func => {
            let zip = format_ident!("zip{}", arity);
            quote! {{
                use ::parallel::__private::pmap::{Direct as _, ViaRegistry as _};
                (&::parallel::__private::pmap::dispatch(#func, ::parallel::__private::pmap::#zip(#(#iterables),*)))
                    .pmap(#options)
            }}
        }
    }
}
