//! Token building for process pools: `#[parallel(processes ..)]` and `pmap!(..; processes ..)`.
//! As in `expand`, input has passed `validate`.
//!
//! On top of what a thread function gets (the callable constant, `name::sync`, `Deref`), a
//! process function gets:
//! - a registration (a `linkme` slice element) under `module::path::name#fn(T0) -> R`, so a
//!   worker process (this program, started again) can find `name::sync` by name;
//! - an impl of `RemoteFn`: the one place where the argument and result types must be
//!   serializable, so a type that is not is reported once;
//! - its own `ProcessPool`, started on the first call;
//! - impls of `Remote` and `Mappable` for `pmap!`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::{Expr, ItemFn, Pat};

use crate::expand::{self, Parts};
use crate::parse::{Args, Pmap};
use crate::values;

/// The expansion of `#[parallel(processes ..)] func`.
pub(crate) fn attribute(args: &Args, func: &ItemFn, parts: &Parts) -> TokenStream {
    let value = expand::expand_value(func, parts);
    let companion = expand::expand_companion(func, parts, expand_items(args, parts));
    let deref = expand::expand_deref(parts);
    let call = expand::expand_remote_call(parts);
    let remote = expand_remote_fn(parts);
    let registration = expand_registration(args, parts);
    let mappable = expand_mappable(parts);
    quote! { #value #companion #deref #call #remote #registration #mappable }
}

/// The companion's items: its registered name, the submitting function, the worker-side
/// entry point, the initializer's entry point, and the pool.
fn expand_items(args: &Args, parts: &Parts) -> TokenStream {
    let Parts {
        name,
        types,
        names,
        output,
        ..
    } = parts;
    let registered = registered_name(parts);
    let timeout = expand::expand_timeout(args);
    let pool = expand_pool(args, name);
    let initializer = args.get("initializer").map(|arg| {
        let path = values::path(arg, "").expect("validated");
        let path_text = path.to_token_stream().to_string().replace(' ', "");
        quote! {
            #[doc(hidden)]
            const __INITIALIZER: &'static str =
                ::core::concat!(::core::module_path!(), "::", #path_text, "#initializer");

            #[doc(hidden)]
            fn __initialize(call: ::parallel::__private::Call, input: &[u8]) -> ::parallel::__private::Reply {
                ::parallel::__private::invoke_initializer(#path, call, input)
            }
        }
    });
    quote! {
        #[doc(hidden)]
        const __NAME: &'static str = ::core::concat!(::core::module_path!(), "::", #registered);

        #[doc(hidden)]
        fn __submit(#(#names: #types),*) -> ::parallel::Future<#output> {
            ::parallel::__private::process_submit(#name::__pool(), #name {}, #timeout, (#(#names,)*))
        }

        #[doc(hidden)]
        fn __invoke(call: ::parallel::__private::Call, input: &[u8]) -> ::parallel::__private::Reply {
            ::parallel::__private::invoke_remote(#name {}, call, input)
        }

        #initializer

        #[doc(hidden)]
        fn __pool() -> &'static ::parallel::ProcessPool {
            #pool
        }
    }
}

/// `name#fn(T0, T1) -> R`: the function's name and signature, so that a worker never runs a
/// function whose signature differs from the caller's.
fn registered_name(parts: &Parts) -> String {
    let types: Vec<String> = parts
        .types
        .iter()
        .map(|ty| ty.to_token_stream().to_string())
        .collect();
    let output = parts.output.to_token_stream().to_string();
    format!("{}#fn({}) -> {}", parts.name, types.join(", "), output)
}

/// The function's own pool, started on the first call.
fn expand_pool(args: &Args, name: &syn::Ident) -> TokenStream {
    let workers = expand::expand_count(args.get("processes"));
    let tasks = expand::expand_count(args.get("max_tasks_per_child"));
    let retries = expand_retries(args);
    let initializer = match args.get("initializer") {
        Some(_) => quote! { ::core::option::Option::Some(#name::__INITIALIZER) },
        None => quote! { ::core::option::Option::None },
    };
    quote! {
        static POOL: ::parallel::__private::LazyLock<::parallel::ProcessPool> =
            ::parallel::__private::LazyLock::new(|| {
                ::parallel::__private::process_pool(#workers, #initializer, #tasks, #retries)
            });
        ::parallel::__private::LazyLock::force(&POOL)
    }
}

/// The `retries = N` setting, 0 when not given.
fn expand_retries(args: &Args) -> TokenStream {
    let retries = args
        .get("retries")
        .map_or(0, |arg| values::whole(arg).expect("validated"));
    quote! { #retries }
}

/// `impl RemoteFn for name`: its argument and result types, checked to be serializable here.
fn expand_remote_fn(parts: &Parts) -> TokenStream {
    let Parts {
        name,
        cfgs,
        types,
        output,
        ..
    } = parts;
    // The tuple takes the first argument's span, so an error about an argument type points
    // into the argument list (its message names the type).
    let span = types
        .first()
        .map_or_else(|| name.span(), syn::spanned::Spanned::span);
    let args = quote_spanned! {span=> (#(#types,)*) };
    quote! {
        #(#cfgs)*
        impl ::parallel::RemoteFn for #name {
            type Args = #args;
            type Output = #output;

            fn name(&self) -> &'static str {
                #name::__NAME
            }
        }
    }
}

/// The registrations a worker looks up: the function and, if any, the initializer.
fn expand_registration(args: &Args, parts: &Parts) -> TokenStream {
    let Parts { name, cfgs, .. } = parts;
    let initializer = args.has("initializer").then(|| {
        register(
            cfgs,
            quote! { #name::__INITIALIZER },
            quote! { #name::__initialize },
        )
    });
    let function = register(cfgs, quote! { #name::__NAME }, quote! { #name::__invoke });
    quote! { #function #initializer }
}

/// One entry in the registry that workers search (an element of a linker-gathered slice: no
/// code runs to add it).
fn register(cfgs: &[syn::Attribute], name: TokenStream, run: TokenStream) -> TokenStream {
    quote! {
        #(#cfgs)*
        const _: () = {
            #[::parallel::__private::linkme::distributed_slice(::parallel::__private::REMOTE_FUNCTIONS)]
            #[linkme(crate = ::parallel::__private::linkme)]
            static ENTRY: ::parallel::__private::RemoteEntry =
                ::parallel::__private::RemoteEntry { name: #name, run: #run };
        };
    }
}

/// `impl Mappable<(T0, ..)> for name`: `pmap!(name, ..)` runs batches in the function's own
/// processes (or on the pool the call's options choose).
fn expand_mappable(parts: &Parts) -> TokenStream {
    let Parts {
        name,
        cfgs,
        types,
        output,
        ..
    } = parts;
    quote! {
        #(#cfgs)*
        impl ::parallel::__private::Mappable<(#(#types,)*)> for #name {
            type Output = #output;

            fn pmap<I>(
                self,
                items: I,
                options: ::parallel::__private::MapOptions,
            ) -> ::parallel::Map<'static, I, #output>
            where
                I: ::core::iter::Iterator<Item = (#(#types,)*)>,
            {
                options.run_remote_fn(#name::__pool(), self, items)
            }
        }
    }
}

/// The expansion of `pmap!(func, iterables..; processes ..)`: the function is registered at
/// the call site, under the call site's location, and mapped on a pool of the call site's own.
pub(crate) fn pmap(input: &Pmap, options: &Args) -> TokenStream {
    let iterables = &input.iterables;
    let arity = iterables.len();
    let zip = format_ident!("zip{}", arity);
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
                fn __parallel_function() -> impl ::parallel::__private::Remote<(#(#types,)*), Output: ::parallel::__private::ProcessResult> {
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
    let workers = expand::expand_count(options.get("processes"));
    let retries = expand_retries(options);
    let map_options = expand::expand_map_options(options);
    let registration = register(
        &[],
        quote! { __PARALLEL_NAME },
        quote! { __parallel_invoke },
    );
    quote! {{
        const __PARALLEL_NAME: &'static str = ::core::concat!(
            ::core::module_path!(), "::{pmap at ", ::core::file!(), ":", ::core::line!(), ":", ::core::column!(), "}"
        );
        #definition
        fn __parallel_invoke(call: ::parallel::__private::Call, input: &[u8]) -> ::parallel::__private::Reply {
            ::parallel::__private::invoke::<_, (#(#shape,)*), _>(#function, call, input)
        }
        #registration
        static __PARALLEL_POOL: ::parallel::__private::LazyLock<::parallel::ProcessPool> =
            ::parallel::__private::LazyLock::new(|| {
                ::parallel::__private::process_pool(#workers, ::core::option::Option::None, ::core::option::Option::None, #retries)
            });
        ::parallel::__private::pmap_process::<(#(#shape,)*), _, _, _>(
            #types_of,
            __PARALLEL_NAME,
            ::parallel::__private::LazyLock::force(&__PARALLEL_POOL),
            ::parallel::__private::#zip(#(#iterables),*),
            #map_options,
        )
    }}
}
