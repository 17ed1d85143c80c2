//! The `#[parallel]` attribute and the `pmap!` macro of the
//! [`parallel`](https://docs.rs/parallel) crate. Use them through that crate, which documents
//! them and provides what their expansions call.
#![forbid(unsafe_code)]

mod diagnostics;
mod duration;
mod expand;
mod parse;
mod validate;
mod values;

use proc_macro::TokenStream;

/// Runs a function on a pool: calling it returns a `parallel::Future` at once. Documented in
/// the `parallel` crate.
#[proc_macro_attribute]
pub fn parallel(args: TokenStream, item: TokenStream) -> TokenStream {
    attribute(args.into(), item.into()).into()
}

/// A parallel `map` over one or more iterables. Documented in the `parallel` crate.
#[proc_macro]
pub fn pmap(input: TokenStream) -> TokenStream {
    pmap_macro(input.into()).into()
}

fn attribute(
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let mut diag = diagnostics::Diagnostics::default();
    let Some(func) = parse::function(item.clone(), &mut diag) else {
        return diag.with(item);
    };
    let args = parse::args(args, &parse::ATTRIBUTE_KEYS, "argument", &mut diag);
    validate::attribute(&args, &func, &mut diag);
    if diag.any() {
        return diag.with(func); // the user's function still compiles, so other errors stay quiet
    }
    expand::attribute(&args, &func)
}

fn pmap_macro(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let mut diag = diagnostics::Diagnostics::default();
    let input: parse::Pmap = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let options = parse::args(
        input.options.clone(),
        &parse::PMAP_KEYS,
        "`pmap!` option",
        &mut diag,
    );
    validate::pmap(&input, &options, &mut diag);
    if diag.any() {
        return diag.with(quote::quote!(::parallel::__private::unreachable_map()));
    }
    expand::pmap(&input, &options)
}
