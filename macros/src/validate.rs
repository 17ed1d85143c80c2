//! The rules a use of `#[parallel]` or `pmap!` must follow, one `check_<rule>` each, every
//! mistake reported at the smallest token that is wrong, with what to write instead.

use syn::visit::Visit;
use syn::{Expr, FnArg, GenericParam, ItemFn, Lifetime, Type, TypeReference};

use crate::diagnostics::Diagnostics;
use crate::parse::{ParallelFn, Pmap, Settings, Spanned};

/// The most iterables `pmap!` zips (Python's `map` takes any number; eight covers real use).
pub(crate) const MAX_ITERABLES: usize = 8;

/// Checks the attribute's settings together, and the function under it.
pub(crate) fn attribute(settings: &Settings, func: &ParallelFn, diag: &mut Diagnostics) {
    check_one_pool(settings, diag);
    check_mpi_feature(settings, diag);
    check_own_pool_settings(settings, diag);
    check_process_settings(settings, diag);
    let func = &func.item;
    check_not_async(func, diag);
    check_not_const(func, diag);
    check_not_unsafe(func, diag);
    check_no_abi(func, diag);
    check_not_variadic(func, diag);
    check_no_receiver(func, diag);
    check_no_lifetime_parameters(func, diag);
    check_owned_arguments(func, diag);
    check_argument_count(func, diag);
    if let Some((_, remote)) = remote_worker(settings) {
        check_not_generic_for_processes(func, remote, diag);
    }
}

/// What runs the code elsewhere, for messages: the word that chose it and "a worker
/// process" or "an MPI worker rank"; `None` on threads.
fn remote_worker(settings: &Settings) -> Option<(&'static str, &'static str)> {
    if settings.processes.is_some() {
        Some(("processes", "a worker process"))
    } else if settings.mpi.is_some() {
        Some(("mpi", "an MPI worker rank"))
    } else {
        None
    }
}

/// The most arguments a `#[parallel]` function may take.
pub(crate) const MAX_ARGUMENTS: usize = 12;

/// Checks `pmap!`'s operands and options together.
pub(crate) fn pmap(input: &Pmap, settings: &Settings, diag: &mut Diagnostics) {
    check_one_pool(settings, diag);
    check_mpi_feature(settings, diag);
    check_process_settings(settings, diag);
    check_has_iterables(input, diag);
    check_closure_arity(input, diag);
    if let Some(remote) = remote_worker(settings) {
        check_remote_function(input, remote, diag);
    }
}

// The MPI backend's glue is compiled only with the feature (it links an MPI library): say how
// to enable it rather than let the expansion fail to find it.
fn check_mpi_feature(settings: &Settings, diag: &mut Diagnostics) {
    if let Some(mpi) = settings.mpi.as_ref().filter(|_| !cfg!(feature = "mpi")) {
        diag.error(
            mpi.span(),
            "`mpi` needs the `mpi` feature of `parallel`: `parallel = { version = \"0.1\", features = [\"mpi\"] }`",
        );
    }
}

// A function runs on one pool: its own threads, its own processes, or a declared pool.
fn check_one_pool(settings: &Settings, diag: &mut Diagnostics) {
    if let [first, rest @ ..] = settings.pool_words() {
        for second in rest {
            diag.error(
                second.span(),
                format!("pick one of `{first}` or `{second}`, not both"),
            );
        }
    }
}

// `name` and `initializer` configure a pool that the attribute creates; the default pool
// and a declared pool are configured where they are built.
fn check_own_pool_settings(settings: &Settings, diag: &mut Diagnostics) {
    if let (Some(name), Some((word, _))) = (&settings.name, remote_worker(settings)) {
        let copies = if word == "mpi" {
            "MPI ranks"
        } else {
            "worker processes"
        };
        diag.error(
            name.span(),
            format!("`name` names the threads of a thread pool; {copies} are copies of this program: drop `name`"),
        );
    }
    if settings.threads.is_some() || settings.processes.is_some() || settings.mpi.is_some() {
        return;
    }
    let runs_on = match &settings.pool {
        Some(pool) => {
            let pool = &pool.value;
            format!(
                "`{}`, so set it where that pool is built",
                quote::quote!(#pool)
            )
        }
        None => "the default pool; add `threads` or `threads = N` to give it a pool of its own"
            .to_owned(),
    };
    let what = [
        (
            settings.name.as_ref().map(Spanned::span),
            "name",
            "names the threads of a pool the function owns",
        ),
        (
            settings.initializer.as_ref().map(Spanned::span),
            "initializer",
            "prepares the workers of a pool the function owns",
        ),
    ];
    for (span, key, does) in what {
        if let Some(span) = span {
            diag.error(
                span,
                format!("`{key}` {does}, but this function runs on {runs_on}"),
            );
        }
    }
}

// Recycling a worker after N tasks, running a task again after its worker died, and bounding
// the frames on a worker's channel only mean something for processes (a thread that panics is a task's error, not a death). MPI
// ranks are started once, by the launcher, and a rank that dies ends the whole job (MPI is
// fail-stop), so neither means anything there either.
fn check_process_settings(settings: &Settings, diag: &mut Diagnostics) {
    if settings.processes.is_some() {
        return;
    }
    if settings.mpi.is_some() {
        let what = [
            (
                settings.max_tasks_per_child.as_ref().map(Spanned::span),
                "`max_tasks_per_child` recycles worker processes, but MPI ranks are started once, by the launcher: drop it",
            ),
            (
                settings.retries.as_ref().map(Spanned::span),
                "`retries` runs a task again when its worker dies, but an MPI rank that dies ends the whole job (MPI is fail-stop): drop it, or use `processes`",
            ),
            (
                settings.max_frame.as_ref().map(Spanned::span),
                "`max_frame` bounds what crosses the channel of a worker process, but MPI ranks exchange messages through MPI: drop it, or use `processes`",
            ),
        ];
        for (span, message) in what {
            if let Some(span) = span {
                diag.error(span, message);
            }
        }
        return;
    }
    let what = [
        (
            settings.max_tasks_per_child.as_ref().map(Spanned::span),
            "max_tasks_per_child",
            "recycles worker processes",
        ),
        (
            settings.retries.as_ref().map(Spanned::span),
            "retries",
            "runs a task again when its worker process dies",
        ),
        (
            settings.max_frame.as_ref().map(Spanned::span),
            "max_frame",
            "bounds the encoded arguments and results that cross to a worker process",
        ),
    ];
    for (span, key, does) in what {
        if let Some(span) = span {
            diag.error(span, format!("`{key}` {does}; add `processes` or drop it"));
        }
    }
}

// The attribute wraps blocking code; an async body would need an executor in each worker.
fn check_not_async(func: &ItemFn, diag: &mut Diagnostics) {
    if let Some(token) = &func.sig.asyncness {
        diag.error_at(
            token,
            "`#[parallel]` wraps blocking code; drop `async` (the returned future can be awaited)",
        );
    }
}

// The call submits work at run time, which a `const fn` cannot do.
fn check_not_const(func: &ItemFn, diag: &mut Diagnostics) {
    if let Some(token) = &func.sig.constness {
        diag.error_at(token, "a `#[parallel]` function submits work at run time, so it cannot be `const`; drop `const`");
    }
}

// The caller of an `unsafe fn` promises something about the call; a call that runs later on
// another thread cannot keep that promise.
fn check_not_unsafe(func: &ItemFn, diag: &mut Diagnostics) {
    if let Some(token) = &func.sig.unsafety {
        diag.error_at(
            token,
            "a `#[parallel]` function runs later on another thread, where the caller's `unsafe` promise cannot hold; drop `unsafe` and keep `unsafe` blocks inside",
        );
    }
}

// A foreign ABI means foreign callers, who expect the value, not a future.
fn check_no_abi(func: &ItemFn, diag: &mut Diagnostics) {
    if let Some(abi) = &func.sig.abi {
        diag.error_at(abi, "a `#[parallel]` function is called from Rust and returns a future; drop the `extern` ABI");
    }
}

fn check_not_variadic(func: &ItemFn, diag: &mut Diagnostics) {
    if let Some(variadic) = &func.sig.variadic {
        diag.error_at(
            variadic,
            "a `#[parallel]` function cannot be variadic; take a `Vec` instead",
        );
    }
}

// A method borrows or consumes its receiver, which would have to travel to the worker; a free
// function that takes the value says so explicitly.
fn check_no_receiver(func: &ItemFn, diag: &mut Diagnostics) {
    if let Some(FnArg::Receiver(receiver)) = func.sig.inputs.first() {
        diag.error_at(
            receiver,
            "`#[parallel]` goes on free functions, not methods; take the value as an argument instead: `fn f(this: Type)`",
        );
    }
}

// Arguments move to another thread that may outlive the caller's borrows.
fn check_no_lifetime_parameters(func: &ItemFn, diag: &mut Diagnostics) {
    for param in &func.sig.generics.params {
        if let GenericParam::Lifetime(lifetime) = param {
            diag.error_at(
                &lifetime.lifetime,
                format!(
                    "arguments are moved to another thread, so they cannot borrow; drop `{}` and take owned values",
                    lifetime.lifetime
                ),
            );
        }
    }
}

// Arguments are moved into the task: a borrow (other than `'static`) cannot go with them.
fn check_owned_arguments(func: &ItemFn, diag: &mut Diagnostics) {
    let declared: Vec<_> = func
        .sig
        .generics
        .lifetimes()
        .map(|param| param.lifetime.ident.clone())
        .collect();
    for input in &func.sig.inputs {
        if let FnArg::Typed(typed) = input {
            let mut finder = Borrows {
                declared: &declared,
                diag: &mut *diag,
            };
            finder.visit_type(&typed.ty);
        }
    }
}

// So many arguments are better grouped in a struct; the runtime's helpers stop at twelve.
fn check_argument_count(func: &ItemFn, diag: &mut Diagnostics) {
    if let Some(extra) = func.sig.inputs.iter().nth(MAX_ARGUMENTS) {
        diag.error_at(
            extra,
            format!("a `#[parallel]` function takes at most {MAX_ARGUMENTS} arguments; group them in a struct"),
        );
    }
}

/// Reports borrows in a type: `&T` without `'static`, and lifetimes other than `'static`
/// (those declared on the function are reported once, at their declaration).
struct Borrows<'a> {
    declared: &'a [proc_macro2::Ident],
    diag: &'a mut Diagnostics,
}

impl<'ast> Visit<'ast> for Borrows<'_> {
    fn visit_type_reference(&mut self, reference: &'ast TypeReference) {
        let is_static = reference
            .lifetime
            .as_ref()
            .is_some_and(|lifetime| lifetime.ident == "static");
        if is_static {
            return syn::visit::visit_type_reference(self, reference);
        }
        let owned = owned_form(reference);
        self.diag.error_at(
            reference,
            format!("the call runs on another thread, so arguments are moved: take `{owned}`"),
        );
    }

    fn visit_lifetime(&mut self, lifetime: &'ast Lifetime) {
        if lifetime.ident != "static" && !self.declared.contains(&lifetime.ident) {
            self.diag.error_at(
                lifetime,
                format!("arguments are moved to another thread, so they cannot borrow; drop `{lifetime}` and take owned values"),
            );
        }
    }
}

// A worker process finds the function by the name registered for it at compile time: one
// name, one body, so it cannot be generic.
fn check_not_generic_for_processes(func: &ItemFn, remote: &str, diag: &mut Diagnostics) {
    for param in &func.sig.generics.params {
        if !matches!(param, GenericParam::Lifetime(_)) {
            diag.error_at(
                param,
                format!("{remote} finds the function by its name, so it cannot be generic; write one function per type, or use `threads`"),
            );
        }
    }
    let mut finder = ImplTraits::default();
    finder.visit_signature(&func.sig);
    for impl_trait in finder.found {
        diag.error_at(
            impl_trait,
            format!("{remote} decodes arguments and results by their type, so `impl Trait` cannot cross: name the type"),
        );
    }
}

/// The `impl Trait` types in a signature.
#[derive(Default)]
struct ImplTraits {
    found: Vec<syn::TypeImplTrait>,
}

impl<'ast> Visit<'ast> for ImplTraits {
    fn visit_type_impl_trait(&mut self, impl_trait: &'ast syn::TypeImplTrait) {
        self.found.push(impl_trait.clone());
    }
}

// With processes, the function itself must be known when the program starts, in every
// process: a path to a function, or a closure whose arguments are typed and which captures
// nothing (a worker cannot see the caller's variables).
fn check_remote_function(input: &Pmap, (word, remote): (&str, &str), diag: &mut Diagnostics) {
    match &input.func {
        Expr::Path(_) => {}
        Expr::Closure(closure) => {
            for param in &closure.inputs {
                if !matches!(param, syn::Pat::Type(_)) {
                    diag.error_at(
                        param,
                        format!(
                            "{remote} decodes each argument by its type: annotate it, as in `|{}: u64|`",
                            quote::quote!(#param)
                        ),
                    );
                }
            }
            {
                for captured in crate::captures::free_variables(closure) {
                    diag.error_at(
                        &captured,
                        format!(
                            "`{captured}` belongs to the surrounding code, which {remote} cannot see; \
                             pass the value as an argument instead (add an iterable for it)"
                        ),
                    );
                }
            }
        }
        other => diag.error_at(
            other,
            format!("with `{word}`, `pmap!` takes a function path or a closure, which {remote} can find by name"),
        ),
    }
}

/// The owned type to suggest for a borrowed one: `&str` → `String`, `&[T]` → `Vec<T>`, …
fn owned_form(reference: &TypeReference) -> String {
    let inner = &*reference.elem;
    let text = quote::quote!(#inner).to_string().replace(' ', "");
    match inner {
        Type::Slice(slice) => {
            let elem = &slice.elem;
            format!("Vec<{}>", quote::quote!(#elem).to_string().replace(' ', ""))
        }
        _ => match text.as_str() {
            "str" => "String".into(),
            "Path" | "std::path::Path" => "PathBuf".into(),
            "OsStr" | "std::ffi::OsStr" => "OsString".into(),
            "CStr" | "std::ffi::CStr" => "CString".into(),
            _ => text,
        },
    }
}

// `pmap!` maps a function over something: with nothing to map, it is a mistake.
fn check_has_iterables(input: &Pmap, diag: &mut Diagnostics) {
    if input.iterables.is_empty() {
        diag.error(
            input.func_span,
            "`pmap!` needs an iterable after the function: write `pmap!(f, items)`",
        );
    }
    if let Some(extra) = input.iterables.get(MAX_ITERABLES) {
        diag.error_at(
            extra,
            format!("`pmap!` zips at most {MAX_ITERABLES} iterables; zip the rest into tuples"),
        );
    }
}

// One iterable per closure argument, as Python's `map(f, *iterables)`.
fn check_closure_arity(input: &Pmap, diag: &mut Diagnostics) {
    let Expr::Closure(closure) = &input.func else {
        return;
    };
    let (takes, given) = (closure.inputs.len(), input.iterables.len());
    if takes != given && given > 0 {
        let plural = |n: usize, word: &str| {
            if n == 1 {
                format!("{n} {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        let (open, inputs, close) = (&closure.or1_token, &closure.inputs, &closure.or2_token);
        diag.error_at(
            quote::quote!(#open #inputs #close),
            format!(
                "this closure takes {} but `pmap!` was given {}; give one iterable per argument",
                plural(takes, "argument"),
                plural(given, "iterable"),
            ),
        );
    }
}
