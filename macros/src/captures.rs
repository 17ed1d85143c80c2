//! A cautious guess at the variables a closure captures, so `pmap!(..; processes)` can say
//! "pass the value as an argument instead" before the compiler's own, vaguer, error.
//!
//! A macro cannot tell a local variable from a function or a constant by its name, so this
//! errs towards silence: it reports only lowercase, single-segment names used as values
//! (receivers, operands, fields, indexes, references, results) and bound nowhere in the
//! closure. A name passed as a call argument (`.map(square)`) may be a function and is left
//! alone; any capture missed here still fails to compile, with the compiler's message.

use std::collections::HashSet;

use proc_macro2::Ident;
use syn::visit::Visit;
use syn::{Expr, ExprClosure, ExprPath, Pat};

/// The names in `closure` that look like captured variables, each once, in order of use.
pub(crate) fn free_variables(closure: &ExprClosure) -> Vec<Ident> {
    let mut bound = Bindings::default();
    bound.visit_expr_closure(closure);
    let mut uses = Uses::default();
    uses.visit_expr(&closure.body);
    let mut seen = HashSet::new();
    uses.found
        .into_iter()
        .filter(|ident| !bound.names.contains(ident) && seen.insert(ident.to_string()))
        .collect()
}

/// Every name a pattern binds anywhere in the closure (parameters, `let`, `match`, `for`,
/// `if let`, inner closures). Ignoring scopes only hides reports, never invents them.
#[derive(Default)]
struct Bindings {
    names: HashSet<Ident>,
}

impl<'ast> Visit<'ast> for Bindings {
    fn visit_pat(&mut self, pat: &'ast Pat) {
        if let Pat::Ident(binding) = pat {
            self.names.insert(binding.ident.clone());
        }
        syn::visit::visit_pat(self, pat);
    }
}

/// Single-segment lowercase paths in value positions.
#[derive(Default)]
struct Uses {
    found: Vec<Ident>,
}

impl Uses {
    /// Visits the arguments of a call: a bare name there may well be a function, so only
    /// larger expressions are searched.
    fn visit_arguments<'ast>(&mut self, args: impl IntoIterator<Item = &'ast Expr>) {
        for arg in args {
            if !matches!(arg, Expr::Path(_)) {
                self.visit_expr(arg);
            }
        }
    }
}

impl<'ast> Visit<'ast> for Uses {
    fn visit_expr_path(&mut self, path: &'ast ExprPath) {
        let segments = &path.path.segments;
        if path.qself.is_none() && path.path.leading_colon.is_none() && segments.len() == 1 {
            let ident = &segments[0].ident;
            let name = ident.to_string();
            let lowercase = name.starts_with(|c: char| c.is_lowercase() || c == '_');
            if lowercase && name != "self" && segments[0].arguments.is_empty() {
                self.found.push(ident.clone());
            }
        }
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        // `f(..)`: `f` is most likely a function.
        if !matches!(&*call.func, Expr::Path(_)) {
            self.visit_expr(&call.func);
        }
        self.visit_arguments(&call.args);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        self.visit_expr(&call.receiver);
        self.visit_arguments(&call.args);
    }

    fn visit_expr_closure(&mut self, inner: &'ast ExprClosure) {
        self.visit_expr(&inner.body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(closure: &str) -> Vec<String> {
        let closure: ExprClosure = syn::parse_str(closure).unwrap();
        free_variables(&closure)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn finds_variables_used_as_values() {
        assert_eq!(names("|n: usize| factor.repeat(n)"), ["factor"]);
        assert_eq!(names("|x: u64| x * scale + offset"), ["scale", "offset"]);
        assert_eq!(names("|i: usize| table[i]"), ["table"]);
    }

    #[test]
    fn ignores_parameters_locals_and_likely_functions() {
        assert!(names("|x: u64| x * x").is_empty());
        assert!(names("|x: u64| { let y = x + 1; y * y }").is_empty());
        assert!(names("|v: Vec<u64>| v.into_iter().map(square).sum::<u64>()").is_empty());
        assert!(names("|x: u64| helper(x) + LIMIT").is_empty());
        assert!(names("|x: Option<u64>| match x { Some(y) => y, None => 0 }").is_empty());
        assert!(names("|xs: Vec<u64>| xs.iter().map(|x| x * 2).count()").is_empty());
    }
}
