//! Token building for `#[parallel]` and `pmap!`, one helper per piece of output. Input
//! reaching this module has passed `validate`; nothing here discovers a user mistake.
//!
//! A non-generic `#[parallel] fn name(..) -> R` becomes:
//! - `const name: name`: the value users call. Its type derefs to a
//!   `fn(..) -> Future<R>` that submits the call, so `name(x)` still reads as a call;
//! - `struct name {}` (a braced struct lives only in the type namespace, beside the const):
//!   `name::sync` is the original, synchronous function;
//! - an impl of `Mappable`, so `pmap!(name, ..)` runs batches of `name::sync` on the
//!   function's own pool.
//!
//! A generic function cannot hide behind a const, so it stays a function returning
//! `Future<R>`, with the same `name::sync` beside it.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::visit::Visit;
use syn::{Attribute, Expr, FnArg, Ident, ItemFn, ReturnType, Type};

use crate::parse::{Args, Pmap};
use crate::values;

/// The expansion of `#[parallel(args)] func`.
pub(crate) fn attribute(args: &Args, func: &ItemFn) -> TokenStream {
    let parts = Parts::new(func);
    if args.has("processes") {
        return crate::expand_process::attribute(args, func, &parts);
    }
    let companion = expand_companion(func, &parts, expand_thread_items(args, func, &parts));
    if !is_generic(func) {
        let value = expand_value(func, &parts);
        let deref = expand_deref(&parts);
        let mappable = expand_mappable(&parts);
        let remote = expand_remote_call(&parts);
        quote! { #value #companion #deref #mappable #remote }
    } else {
        let generic = expand_generic_fn(args, func, &parts);
        quote! { #generic #companion }
    }
}

/// Whether the function is generic, explicitly or through `impl Trait` (which a constant's
/// fn-pointer type cannot express).
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

/// The pieces of the user's function that the expansion repeats.
pub(crate) struct Parts {
    pub(crate) name: Ident,
    pub(crate) vis: syn::Visibility,
    /// `#[cfg]`/`#[cfg_attr]`: repeated on every generated item.
    pub(crate) cfgs: Vec<Attribute>,
    /// Doc comments and `#[deprecated]`: on the value users call and on `sync`.
    pub(crate) docs: Vec<Attribute>,
    /// Everything else (`#[inline]`, `#[allow]`, …): on `sync`, which carries the body.
    pub(crate) rest: Vec<Attribute>,
    /// Argument types, in order.
    pub(crate) types: Vec<Type>,
    /// `__arg0`, `__arg1`, …: names for the arguments outside the user's patterns.
    pub(crate) names: Vec<Ident>,
    /// The return type (`()` when none is written).
    pub(crate) output: Type,
}

impl Parts {
    fn new(func: &ItemFn) -> Self {
        let mut cfgs = Vec::new();
        let mut docs = Vec::new();
        let mut rest = Vec::new();
        for attr in &func.attrs {
            let path = attr.path();
            if path.is_ident("cfg") || path.is_ident("cfg_attr") {
                cfgs.push(attr.clone());
            } else if path.is_ident("doc") || path.is_ident("deprecated") {
                docs.push(attr.clone());
            } else {
                rest.push(attr.clone());
            }
        }
        let types: Vec<Type> = func
            .sig
            .inputs
            .iter()
            .filter_map(|input| match input {
                FnArg::Typed(typed) => Some((*typed.ty).clone()),
                FnArg::Receiver(_) => None,
            })
            .collect();
        let names = (0..types.len())
            .map(|index| format_ident!("__arg{}", index))
            .collect();
        let output = match &func.sig.output {
            ReturnType::Default => syn::parse_quote!(()),
            ReturnType::Type(_, ty) => (**ty).clone(),
        };
        Self {
            name: func.sig.ident.clone(),
            vis: func.vis.clone(),
            cfgs,
            docs,
            rest,
            types,
            names,
            output,
        }
    }

    /// `fn(T0, T1) -> Future<R>`
    pub(crate) fn submit_fn_type(&self) -> TokenStream {
        let Self { types, output, .. } = self;
        quote! { fn(#(#types),*) -> ::parallel::Future<#output> }
    }
}

/// `const name: name = name {};` with the user's docs, and a note on how it runs.
pub(crate) fn expand_value(func: &ItemFn, parts: &Parts) -> TokenStream {
    let Parts {
        name,
        vis,
        cfgs,
        docs,
        ..
    } = parts;
    let note = format!(
        " Runs in parallel: calling `{name}(..)` submits the call and returns a \
         [`Future`](::parallel::Future) at once; `{name}::sync(..)` is the original, \
         synchronous function."
    );
    let signature = signature_doc(func, parts);
    quote! {
        #(#cfgs)*
        #(#docs)*
        #[doc = ""]
        #[doc = #note]
        #[doc = #signature]
        #[allow(non_upper_case_globals)]
        #vis const #name: #name = #name {};
    }
}

/// A doc line showing what calling the value looks like, e.g. `fn(String) -> Future<String>`.
fn signature_doc(func: &ItemFn, parts: &Parts) -> String {
    let inputs = func
        .sig
        .inputs
        .iter()
        .map(|input| input.to_token_stream().to_string());
    let output = parts.output.to_token_stream().to_string();
    format!(
        "\n\n```text\n{}({}) -> parallel::Future<{}>\n```",
        parts.name,
        inputs.collect::<Vec<_>>().join(", "),
        output
    )
}

/// `struct name {}` with `sync` (the original) and the pool-specific `items`.
pub(crate) fn expand_companion(func: &ItemFn, parts: &Parts, items: TokenStream) -> TokenStream {
    let Parts {
        name,
        vis,
        cfgs,
        docs,
        rest,
        ..
    } = parts;
    let sig = &func.sig;
    let (generics, body) = (&sig.generics, &func.block);
    let where_clause = &generics.where_clause;
    let (inputs, output) = (&sig.inputs, &sig.output);
    let companion_doc = format!(
        " The companion of the `#[parallel]` function [`{name}`]: \
         `{name}::sync` runs the original function on the calling thread."
    );
    quote! {
        #(#cfgs)*
        #[doc = #companion_doc]
        #[allow(non_camel_case_types)]
        #[derive(::core::clone::Clone, ::core::marker::Copy)]
        #vis struct #name {}

        #(#cfgs)*
        impl #name {
            #(#docs)*
            #(#rest)*
            #vis fn sync #generics (#inputs) #output #where_clause #body

            #items
        }
    }
}

/// The thread-pool items of the companion: the submitting function and the pool.
fn expand_thread_items(args: &Args, func: &ItemFn, parts: &Parts) -> TokenStream {
    let submit = (!is_generic(func)).then(|| expand_submit_fn(args, parts));
    let pool = expand_pool(args, parts);
    quote! {
        #submit

        #[doc(hidden)]
        fn __pool() -> &'static ::parallel::ThreadPool {
            #pool
        }
    }
}

/// `fn __submit(__arg0: T0, ..) -> Future<R>`: what calling the value does.
fn expand_submit_fn(args: &Args, parts: &Parts) -> TokenStream {
    let Parts {
        types,
        names,
        output,
        ..
    } = parts;
    let body = expand_submit_body(args, parts);
    quote! {
        #[doc(hidden)]
        fn __submit(#(#names: #types),*) -> ::parallel::Future<#output> {
            #body
        }
    }
}

/// Submits `sync` to the pool through `submitN`, whose explicit type arguments carry the
/// user's spans: a type that cannot cross threads is reported once, on that type.
fn expand_submit_body(args: &Args, parts: &Parts) -> TokenStream {
    let Parts { name, names, .. } = parts;
    let timeout = expand_timeout(args);
    let submit = format_ident!("submit{}", names.len());
    let types = parts.types.iter().map(nameable);
    let output = nameable(&parts.output);
    quote! {
        ::parallel::__private::#submit::<#(#types,)* #output, _>(#name::__pool(), #timeout, #name::sync, #(#names),*)
    }
}

/// `Some(Duration)` for `timeout = ".."`, else `None`.
pub(crate) fn expand_timeout(args: &Args) -> TokenStream {
    match args.get("timeout") {
        Some(arg) => {
            let nanos = values::duration(arg).expect("validated").as_nanos() as u64;
            quote! { ::core::option::Option::Some(::core::time::Duration::from_nanos(#nanos)) }
        }
        None => quote! { ::core::option::Option::None },
    }
}

/// A type as an explicit generic argument: itself, or `_` for `impl Trait` (which cannot be
/// named there, and which the closure that captures it checks instead).
fn nameable(ty: &Type) -> TokenStream {
    match ty {
        Type::ImplTrait(_) => quote! { _ },
        ty => ty.to_token_stream(),
    }
}

/// The pool the function runs on: its own (built on first call), a declared one, or the
/// default pool.
fn expand_pool(args: &Args, parts: &Parts) -> TokenStream {
    if let Some(arg) = args.get("pool") {
        let path = values::path(arg, "").expect("validated");
        return quote! { ::parallel::__private::pool_of(&#path) };
    }
    let Some(threads) = args.get("threads") else {
        return quote! { ::parallel::default_pool() };
    };
    let workers = match values::count(threads, "").expect("validated") {
        Some(count) => quote! { ::core::option::Option::Some(#count) },
        None => quote! { ::core::option::Option::None },
    };
    let prefix = match args.get("name") {
        Some(arg) => values::string(arg).expect("validated").value(),
        None => parts.name.to_string(),
    };
    let initializer = match args.get("initializer") {
        Some(arg) => {
            let path = values::path(arg, "").expect("validated");
            quote! { ::core::option::Option::Some({ let initializer: fn() = #path; initializer }) }
        }
        None => quote! { ::core::option::Option::None },
    };
    quote! {
        static POOL: ::parallel::__private::LazyLock<::parallel::ThreadPool> =
            ::parallel::__private::LazyLock::new(|| {
                ::parallel::__private::thread_pool(#workers, #prefix, #initializer)
            });
        ::parallel::__private::LazyLock::force(&POOL)
    }
}

/// `Some(count)` or `None` for a count setting that `validate` accepted.
pub(crate) fn expand_count(arg: Option<&crate::parse::Arg>) -> TokenStream {
    match arg.and_then(|arg| values::count(arg, "").expect("validated")) {
        Some(count) => quote! { ::core::option::Option::Some(#count) },
        None => quote! { ::core::option::Option::None },
    }
}

/// `impl Remote<(T0, ..)> for name`: a worker process can call the function with an argument
/// tuple, so `pmap!(name, ..; processes)` can register it at its call site.
pub(crate) fn expand_remote_call(parts: &Parts) -> TokenStream {
    let Parts {
        name,
        cfgs,
        types,
        names,
        output,
        ..
    } = parts;
    quote! {
        #(#cfgs)*
        impl ::parallel::__private::Remote<(#(#types,)*)> for #name {
            type Output = #output;

            fn call(&self, (#(#names,)*): (#(#types,)*)) -> #output {
                #name::sync(#(#names),*)
            }
        }
    }
}

/// `impl Deref for name { type Target = fn(..) -> Future<R>; }`: makes `name(..)` a call.
pub(crate) fn expand_deref(parts: &Parts) -> TokenStream {
    let Parts { name, cfgs, .. } = parts;
    let fn_type = parts.submit_fn_type();
    quote! {
        #(#cfgs)*
        impl ::core::ops::Deref for #name {
            type Target = #fn_type;

            fn deref(&self) -> &Self::Target {
                const SUBMIT: #fn_type = #name::__submit;
                &SUBMIT
            }
        }
    }
}

/// `impl Mappable<(A0, ..)> for name` where each `Ai` is `Ti`: lets `pmap!` run
/// `name::sync` in batches on the function's own pool. Generic over the item types (tied to
/// the argument types by `Is`), so their bounds are checked where `pmap!` uses it.
fn expand_mappable(parts: &Parts) -> TokenStream {
    let Parts {
        name,
        cfgs,
        types,
        names,
        output,
        ..
    } = parts;
    if types.len() > crate::validate::MAX_ITERABLES {
        return TokenStream::new(); // pmap! cannot zip that many iterables anyway
    }
    let items: Vec<Ident> = (0..types.len())
        .map(|index| format_ident!("__Item{}", index))
        .collect();
    quote! {
        #(#cfgs)*
        impl<#(#items),*> ::parallel::__private::Mappable<(#(#items,)*)> for #name
        where
            #(#items: ::parallel::__private::Is<#types> + ::parallel::__private::ThreadArgument,)*
        {
            type Output = #output;

            fn pmap<I>(
                self,
                items: I,
                options: ::parallel::__private::MapOptions,
            ) -> ::parallel::Map<'static, I, #output>
            where
                I: ::core::iter::Iterator<Item = (#(#items,)*)>,
            {
                options.run_returning::<#output, _, _>(
                    #name::__pool(),
                    |(#(#names,)*)| #name::sync(#(::parallel::__private::Is::into_is(#names)),*),
                    items,
                )
            }
        }
    }
}

/// A generic function keeps its generics and returns `Future<R>`; `name::sync` carries the
/// body.
fn expand_generic_fn(args: &Args, func: &ItemFn, parts: &Parts) -> TokenStream {
    let Parts {
        name,
        vis,
        cfgs,
        docs,
        types,
        names,
        output,
        ..
    } = parts;
    let generics = &func.sig.generics;
    let where_clause = &generics.where_clause;
    let note = format!(
        " Runs in parallel: returns a [`Future`](::parallel::Future) at once; \
         `{name}::sync(..)` is the original, synchronous function."
    );
    let submit = format_ident!("submit{}", names.len());
    let timeout = expand_timeout(args);
    let nameable_types = types.iter().map(nameable);
    let nameable_output = nameable(output);
    quote! {
        #(#cfgs)*
        #(#docs)*
        #[doc = ""]
        #[doc = #note]
        #vis fn #name #generics (#(#names: #types),*) -> ::parallel::Future<#output> #where_clause {
            ::parallel::__private::#submit::<#(#nameable_types,)* #nameable_output, _>(
                #name::__pool(),
                #timeout,
                #name::sync,
                #(#names),*
            )
        }
    }
}

/// The expansion of `pmap!(func, iterables..; options)`.
pub(crate) fn pmap(input: &Pmap, options: &Args) -> TokenStream {
    let map = if options.has("processes") {
        crate::expand_process::pmap(input, options)
    } else {
        pmap_on_threads(input, options)
    };
    match options
        .get("progress")
        .map(|arg| values::flag(arg).expect("validated"))
    {
        Some(true) => quote! { ::parallel::__private::progress(#map) },
        _ => map,
    }
}

/// `pmap!` on the function's own pool, the default pool, or `threads = N`.
fn pmap_on_threads(input: &Pmap, options: &Args) -> TokenStream {
    let options = expand_map_options(options);
    let iterables = &input.iterables;
    let arity = iterables.len();
    match &input.func {
        Expr::Closure(closure) => {
            let run = format_ident!("pmap{}", arity);
            quote! { ::parallel::__private::#run(#closure, #(#iterables,)* #options) }
        }
        func => {
            let zip = format_ident!("zip{}", arity);
            quote! {
                ::parallel::__private::Mappable::pmap(#func, ::parallel::__private::#zip(#(#iterables),*), #options)
            }
        }
    }
}

/// `MapOptions::new().chunksize(..).ordered(..).timeout(..).pool(..)`
pub(crate) fn expand_map_options(options: &Args) -> TokenStream {
    let mut tokens = quote! { ::parallel::__private::MapOptions::new() };
    if let Some(arg) = options.get("chunksize") {
        let size = values::count(arg, "").expect("validated");
        tokens.extend(quote! { .chunksize(#size) });
    }
    if let Some(arg) = options.get("ordered") {
        let ordered = values::flag(arg).expect("validated");
        tokens.extend(quote! { .ordered(#ordered) });
    }
    if let Some(arg) = options.get("timeout") {
        let nanos = values::duration(arg).expect("validated").as_nanos() as u64;
        tokens.extend(quote! { .timeout(::core::time::Duration::from_nanos(#nanos)) });
    }
    if let Some(arg) = options.get("threads") {
        let workers = match values::count(arg, "").expect("validated") {
            Some(count) => quote! { ::core::option::Option::Some(#count) },
            None => quote! { ::core::option::Option::None },
        };
        let span = Span::call_site();
        tokens.extend(quote_spanned! {span=>
            .pool({
                static POOL: ::parallel::__private::LazyLock<::parallel::ThreadPool> =
                    ::parallel::__private::LazyLock::new(|| {
                        ::parallel::__private::thread_pool(#workers, "pmap", ::core::option::Option::None)
                    });
                ::parallel::__private::LazyLock::force(&POOL)
            })
        });
    }
    tokens
}
