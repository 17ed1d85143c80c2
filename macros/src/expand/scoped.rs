//! `pmap!(f, items; scope = s)`: a map on a scope's pool, whose function and items may
//! borrow. One iterable that the workers can read in place (a slice, a vector, an array, a
//! range) becomes `s.map_with`; anything else `s.map_iter_with` over the zipped iterables.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Expr, Pat};

use super::parts;
use crate::parse::{Pmap, Settings};

pub(crate) fn pmap(input: &Pmap, settings: &Settings, scope: &Expr) -> TokenStream {
    let options = parts::map_options(settings);
    let iterables = &input.iterables;
    let func = &input.func;
    match (func, iterables.as_slice()) {
        // A closure whose argument types are left to inference needs the bound of one
        // function to infer them from: the in-place map's.
        (Expr::Closure(closure), [items]) if !annotated(closure) => quote! {
            ::parallel::__private::scoped::indexed(#scope, #closure, #items, #options)
        },
        // One iterable and a function of known type: in place if the iterable allows it,
        // through a batch of items otherwise (method resolution picks, see the runtime's
        // `__private::scoped`).
        (_, [items]) => quote! {{
            use ::parallel::__private::scoped::{InPlace as _, Iterated as _};
            (&::parallel::__private::scoped::dispatch(#scope, #func, #items)).pmap(#options)
        }},
        _ => {
            let run = format_ident!("pmap{}", iterables.len());
            quote! {
                ::parallel::__private::scoped::#run(#scope, #func, #(#iterables,)* #options)
            }
        }
    }
}

/// Whether every argument of the closure has its type written.
fn annotated(closure: &syn::ExprClosure) -> bool {
    closure
        .inputs
        .iter()
        .all(|input| matches!(input, Pat::Type(_)))
}
