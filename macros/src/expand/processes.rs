//! The process backend: `#[parallel(processes ..)]` and `pmap!(..; processes ..)`.
//!
//! On top of what every function gets (the function users call, `name::sync`), a process
//! function gets:
//! - `impl Signature for name`: its argument tuple, result and registered name; the one
//!   place where the types must be serializable, so a type that is not is reported once;
//! - an entry in the registry that workers search (`REMOTE_FUNCTIONS`, a `linkme` slice),
//!   under `module::path::name#fn(T0) -> R`, so a worker (this program, started again) finds
//!   `name::sync` by name; and one for its initializer, if any;
//! - its own `ProcessPool`, made on the first call;
//! - the registry entry that `pmap!` and `ProcessPool::submit` find it by.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::{Expr, Pat};

use super::parts;
use crate::parse::{ParallelFn, Pmap, Settings};
use crate::values::Count;

/// The pool a remote backend's expansion makes (the runtime's `submit` and `pmap` take any
/// pool that runs registered functions).
pub(super) struct RemotePool {
    /// The pool's type.
    pub(super) ty: TokenStream,
    /// The expression that makes the pool (once, in a `LazyLock`).
    pub(super) make: TokenStream,
}

/// The expansion of `#[parallel(processes ..)] func` (never generic: `validate` refused it).
pub(crate) fn attribute(
    settings: &Settings,
    workers: Option<&Count>,
    func: &ParallelFn,
) -> TokenStream {
    let owner = Some(func.name());
    let workers = parts::count(workers, owner);
    let tasks = parts::count(
        settings
            .max_tasks_per_child
            .as_ref()
            .map(|tasks| &tasks.value),
        owner,
    );
    let max_frame = parts::count(settings.max_frame.as_ref().map(|bytes| &bytes.value), owner);
    let retries = retries(settings);
    let initializer = initializer(settings, func);
    let pool = RemotePool {
        ty: quote! { ::parallel::ProcessPool },
        make: quote! {
            ::parallel::__private::processes::process_pool(::parallel::__private::processes::PoolSettings {
                workers: #workers,
                initializer: #initializer,
                max_tasks_per_child: #tasks,
                max_frame: #max_frame,
                retries: #retries,
            })
        },
    };
    remote_attribute(settings, func, &pool)
}

/// `Some(name::__INITIALIZER)` for `initializer = PATH`, else `None`.
pub(super) fn initializer(settings: &Settings, func: &ParallelFn) -> TokenStream {
    let name = func.name();
    match &settings.initializer {
        Some(_) => quote! { ::core::option::Option::Some(#name::__INITIALIZER) },
        None => quote! { ::core::option::Option::None },
    }
}

/// The expansion of a function that runs elsewhere (worker processes, MPI ranks) on `pool`:
/// the submitting function, the companion with its pool and entry points, its `Signature`
/// and its registrations.
pub(super) fn remote_attribute(
    settings: &Settings,
    func: &ParallelFn,
    pool: &RemotePool,
) -> TokenStream {
    let name = func.name();
    let names = &func.names;
    let timeout = parts::timeout(settings);
    let submit = parts::submitting_fn(
        func,
        quote! { ::parallel::__private::processes::submit::<#name, _>(#name::__pool(), #timeout, (#(#names,)*)) },
    );
    let mut items = pool_fn(func, pool);
    items.extend(parts::count_items(settings, true));
    items.extend(parts::batch_and_call(func));
    items.extend(entry_points(settings, func));
    let companion = parts::companion(func, items);
    let signature = signature(func);
    let registrations = registrations(settings, func, &pool.ty);
    quote! { #submit #companion #signature #registrations }
}

/// `__pool`: the function's own pool, made on the first call; and `pool`, the same for users.
fn pool_fn(func: &ParallelFn, pool: &RemotePool) -> TokenStream {
    let RemotePool { ty, make, .. } = pool;
    let public = parts::public_pool(func, ty);
    quote! {
        #[doc(hidden)]
        fn __pool() -> &'static #ty {
            static POOL: ::parallel::__private::LazyLock<#ty> =
                ::parallel::__private::LazyLock::new(|| #make);
            ::parallel::__private::LazyLock::force(&POOL)
        }

        #public
    }
}

/// The `retries = N` setting, 0 when not given.
fn retries(settings: &Settings) -> TokenStream {
    let retries = settings.retries.as_ref().map_or(0, |retries| retries.value);
    quote! { #retries }
}

/// What a worker runs: `__invoke` for the function, and the initializer's name and entry.
fn entry_points(settings: &Settings, func: &ParallelFn) -> TokenStream {
    let name = func.name();
    let initializer = settings.initializer.as_ref().map(|initializer| {
        let path = &initializer.value;
        let path_text = path.to_token_stream().to_string().replace(' ', "");
        quote! {
            #[doc(hidden)]
            const __INITIALIZER: &'static str =
                ::core::concat!(::core::module_path!(), "::", #path_text, "#initializer");

            #[doc(hidden)]
            fn __initialize(
                call: ::parallel::__private::processes::Call,
                input: &[u8],
            ) -> ::parallel::__private::processes::Reply {
                ::parallel::__private::processes::invoke_initializer(#path, call, input)
            }
        }
    });
    quote! {
        #[doc(hidden)]
        fn __invoke(
            call: ::parallel::__private::processes::Call,
            input: &[u8],
        ) -> ::parallel::__private::processes::Reply {
            ::parallel::__private::processes::invoke::<#name, _>(#name::sync, call, input)
        }

        #initializer
    }
}

/// `impl Signature for name`: its types, checked to be serializable here, and its name.
fn signature(func: &ParallelFn) -> TokenStream {
    let name = func.name();
    let ParallelFn { cfgs, output, .. } = func;
    let args = args_type(func);
    let registered = registered_name(func);
    quote! {
        #(#cfgs)*
        impl ::parallel::__private::processes::Signature for #name {
            type Args = #args;
            type Output = #output;
            const NAME: &'static str = ::core::concat!(::core::module_path!(), "::", #registered);
        }
    }
}

/// The argument tuple as `Arguments<(T0, T1)>` (an alias of the tuple), its first tokens
/// spanned at the first argument type and its last at the last: the compiler underlines from
/// one to the other, so an error about an argument type (its message names the type) points
/// at that type when there is one argument, and at the arguments when there are several.
fn args_type(func: &ParallelFn) -> TokenStream {
    let types = &func.types;
    let (Some(first), Some(last)) = (types.first(), types.last()) else {
        return quote! { () };
    };
    let first = syn::spanned::Spanned::span(first);
    let last = syn::spanned::Spanned::span(last);
    let open = quote_spanned! {first=> ::parallel::__private::processes::Arguments< };
    let close = quote_spanned! {last=> > };
    quote! { #open (#(#types,)*) #close }
}

/// `name#fn(T0, T1) -> R`: the function's name and signature, so that a worker never runs a
/// function whose signature differs from the caller's.
fn registered_name(func: &ParallelFn) -> String {
    let types: Vec<String> = func
        .types
        .iter()
        .map(|ty| ty.to_token_stream().to_string())
        .collect();
    let output = func.output.to_token_stream().to_string();
    format!("{}#fn({}) -> {}", func.name(), types.join(", "), output)
}

/// The registrations: for workers, the function and its initializer; for `pmap!` and
/// `ProcessPool::submit`, the function's description.
fn registrations(settings: &Settings, func: &ParallelFn, pool: &TokenStream) -> TokenStream {
    let name = func.name();
    let cfgs = &func.cfgs;
    let worker_entry = |registered: TokenStream, run: TokenStream| {
        parts::register(
            cfgs,
            quote! { ::parallel::__private::processes::REMOTE_FUNCTIONS },
            quote! { ::parallel::__private::processes::RemoteEntry },
            quote! { ::parallel::__private::processes::RemoteEntry { name: #registered, run: #run } },
        )
    };
    let function = worker_entry(
        quote! { <#name as ::parallel::__private::processes::Signature>::NAME },
        quote! { #name::__invoke },
    );
    let initializer = settings.initializer.as_ref().map(|_| {
        worker_entry(
            quote! { #name::__INITIALIZER },
            quote! { #name::__initialize },
        )
    });
    let (args, output) = (parts::args_tuple(func), &func.output);
    let description = parts::register_function(
        func,
        quote! {
            ::parallel::__private::processes::ProcessFn::<#args, #output, #pool> {
                name: <#name as ::parallel::__private::processes::Signature>::NAME,
                pool: #name::__pool,
                batch: #name::__batch,
                call: #name::__call,
                encode: ::parallel::__private::processes::encode_batch::<#name>,
                decode: ::parallel::__private::processes::decode_batch::<#name>,
            }
        },
    );
    quote! { #function #initializer #description }
}

/// The expansion of `pmap!(func, iterables..; processes ..)`: the function is registered at
/// the call site, under the call site's location, and mapped on a pool of the call site's
/// own. A path may name any function, a `#[parallel]` one included (whose original body the
/// worker then runs, found in the registry).
pub(crate) fn pmap(input: &Pmap, settings: &Settings, workers: Option<&Count>) -> TokenStream {
    let workers = parts::count(workers, None);
    let retries = retries(settings);
    let pool = RemotePool {
        ty: quote! { ::parallel::ProcessPool },
        make: quote! {
            ::parallel::__private::processes::process_pool(::parallel::__private::processes::PoolSettings {
                workers: #workers,
                retries: #retries,
                ..::parallel::__private::processes::PoolSettings::DEFAULT
            })
        },
    };
    remote_pmap(input, settings, &pool)
}

/// `pmap!` of a function run elsewhere (worker processes, MPI ranks), on a `pool` of the
/// call site's own.
pub(super) fn remote_pmap(input: &Pmap, settings: &Settings, pool: &RemotePool) -> TokenStream {
    let arity = input.iterables.len();
    let shape: Vec<TokenStream> = (0..arity).map(|_| quote! { _ }).collect();
    // `function` is what the worker calls; `types_of` is what gives the caller's side its
    // types (for a closure, the closure itself: the worker's copy hides its result type).
    let (definition, function, types_of) = match &input.func {
        Expr::Closure(closure) => {
            let types = closure.inputs.iter().map(|param| match param {
                Pat::Type(typed) => typed.ty.to_token_stream(),
                _ => quote! { _ },
            });
            let definition = quote! {
                fn __parallel_function() -> impl ::parallel::__private::processes::Remote<
                    (#(#types,)*),
                    Output: ::parallel::__private::processes::ProcessResult,
                > {
                    #closure
                }
            };
            (
                definition,
                quote! { __parallel_function() },
                closure.to_token_stream(),
            )
        }
        path => (
            TokenStream::new(),
            path.to_token_stream(),
            path.to_token_stream(),
        ),
    };
    let options = parts::map_options(settings);
    let map = remote_map_call(input, &types_of, &shape, &options);
    let RemotePool { ty, make } = pool;
    let registration = parts::register(
        &[],
        quote! { ::parallel::__private::processes::REMOTE_FUNCTIONS },
        quote! { ::parallel::__private::processes::RemoteEntry },
        quote! { ::parallel::__private::processes::RemoteEntry { name: __PARALLEL_NAME, run: __parallel_invoke } },
    );
    quote! {{
        const __PARALLEL_NAME: &'static str = ::core::concat!(
            ::core::module_path!(), "::{pmap at ", ::core::file!(), ":", ::core::line!(), ":", ::core::column!(), "}"
        );
        #definition
        fn __parallel_invoke(
            call: ::parallel::__private::processes::Call,
            input: &[u8],
        ) -> ::parallel::__private::processes::Reply {
            use ::parallel::__private::processes::{Invoke as _, Unreachable as _};
            (&::parallel::__private::processes::entry::<_, (#(#shape,)*)>(#function)).invoke(call, input)
        }
        #registration
        static __PARALLEL_POOL: ::parallel::__private::LazyLock<#ty> =
            ::parallel::__private::LazyLock::new(|| #make);
        #map
    }}
}

/// The call of the runtime's `pmap` for `pmap!(..; processes)`, spanned on the function: a
/// type that cannot travel is reported once, there (the call's bounds on the arguments, the
/// items and the result then share one span, where the compiler keeps one error of each).
fn remote_map_call(
    input: &Pmap,
    types_of: &TokenStream,
    shape: &[TokenStream],
    options: &TokenStream,
) -> TokenStream {
    let iterables = &input.iterables;
    let span = input.func_span;
    let zip = format_ident!("zip{}", iterables.len(), span = span);
    quote_spanned! {span=>
        ::parallel::__private::processes::pmap::<_, (#(#shape,)*), _, _>(
            #types_of,
            __PARALLEL_NAME,
            ::parallel::__private::LazyLock::force(&__PARALLEL_POOL),
            ::parallel::__private::pmap::#zip(#(#iterables),*),
            #options,
        )
    }
}
