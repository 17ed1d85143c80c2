//! `Diagnostics`: every mistake of one macro invocation, reported together.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;

/// Gathers `syn::Error`s so one build shows every mistake, not just the first.
#[derive(Default)]
pub(crate) struct Diagnostics {
    errors: Option<syn::Error>,
}

impl Diagnostics {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.errors {
            Some(errors) => errors.combine(error),
            None => self.errors = Some(error),
        }
    }

    /// Records `message` at `span`.
    pub(crate) fn error(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Records `message` spanning all of `tokens`.
    pub(crate) fn error_at(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    pub(crate) fn any(&self) -> bool {
        self.errors.is_some()
    }

    /// The errors as `compile_error!`s, followed by `tokens` (the user's code, untouched, so
    /// the rest of the crate and IDEs keep working).
    pub(crate) fn with(self, tokens: impl ToTokens) -> TokenStream {
        let mut out = self
            .errors
            .map(|errors| errors.to_compile_error())
            .unwrap_or_default();
        tokens.to_tokens(&mut out);
        out
    }
}
