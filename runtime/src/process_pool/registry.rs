//! The functions a worker process can run, registered at compile time under stable names
//! (see `README.md`), and the code that runs one call or one batch of calls of them.

use std::cell::Cell;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;
use std::time::Instant;

use super::codec::{ProcessArguments, ProcessResult};
use crate::arity::arities;
use crate::panic;

/// What a worker is asked to do with a registered function.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// Decode one argument tuple, call, encode the result. A panic escapes to the worker loop.
    One,
    /// Decode a `Vec` of argument tuples and call once for each; a panic fails only its item.
    Batch,
    /// Run the function as a worker's initializer (no input, no output).
    Init,
}

/// A function registered for worker processes. The `parallel` macros write these; the
/// worker finds them by `name`.
#[doc(hidden)]
pub struct RemoteEntry {
    /// `module::path::function#signature`.
    pub name: &'static str,
    /// Runs a call; `Err` is a message about input that could not be decoded or output that
    /// could not be encoded.
    pub run: fn(Call, &[u8]) -> Result<Vec<u8>, String>,
}

/// Every registered function, gathered by the linker from all the program's crates. Nothing
/// fills it at run time, so it is complete even in the worker's start-up code, which runs
/// before other constructors.
#[doc(hidden)]
#[linkme::distributed_slice]
pub static REMOTE_FUNCTIONS: [RemoteEntry];

/// The registered function called `name`.
pub(crate) fn find(name: &str) -> Option<&'static RemoteEntry> {
    static INDEX: OnceLock<HashMap<&'static str, &'static RemoteEntry>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            REMOTE_FUNCTIONS
                .iter()
                .map(|entry| (entry.name, entry))
                .collect()
        })
        .get(name)
        .copied()
}

/// How one call of a registered function went, on the worker's side (a process worker's or
/// an MPI worker rank's), before it is put in a reply.
pub(crate) enum Ran {
    /// The encoded output.
    Done(Vec<u8>),
    /// The input could not be decoded or the output encoded: the message.
    Codec(String),
    /// The call panicked, with this message, at this location if known.
    Panicked(String, Option<String>),
    /// No function is registered under the name.
    Unknown,
}

/// Runs the function registered as `name` as asked by `call` on encoded `input`. A panic is
/// caught and prints nothing (`panic::catch_parts`): its message and location are returned.
pub(crate) fn run(name: &str, call: Call, input: &[u8]) -> Ran {
    let Some(entry) = find(name) else {
        return Ran::Unknown;
    };
    match panic::catch_parts(|| (entry.run)(call, input)) {
        Ok(Ok(output)) => Ran::Done(output),
        Ok(Err(message)) => Ran::Codec(message),
        Err((message, location)) => Ran::Panicked(message, location),
    }
}

/// Runs the initializer registered as `name`; `Err` says why it failed.
pub(crate) fn initialize(name: &str) -> Result<(), String> {
    match run(name, Call::Init, &[]) {
        Ran::Done(_) => Ok(()),
        Ran::Codec(message) => Err(message),
        Ran::Unknown => Err(format!("no initializer is registered as `{name}`")),
        Ran::Panicked(message, location) => {
            let at = location.map(|at| format!(" at {at}")).unwrap_or_default();
            Err(format!("the initializer panicked{at}: {message}"))
        }
    }
}

/// A function of an argument tuple: what the worker calls. Implemented for every function and
/// closure of up to twelve arguments, so that a closure returned as `impl Remote<(A0,)>` keeps
/// its result type without the expansion having to name it.
#[doc(hidden)]
pub trait Remote<Args> {
    /// The result type.
    type Output;
    /// Calls with the arguments of `args`.
    fn call(&self, args: Args) -> Self::Output;
}

macro_rules! remote_arities {
    ($($n:literal [$submit:ident $zip:ident $pmap:ident] ($($ty:ident $arg:ident),*);)+) => {$(
        impl<Func, $($ty,)* R> Remote<($($ty,)*)> for Func
        where
            Func: Fn($($ty),*) -> R,
        {
            type Output = R;

            #[inline]
            fn call(&self, ($($arg,)*): ($($ty,)*)) -> R {
                self($($arg),*)
            }
        }
    )+};
}

arities!(remote_arities);

/// Runs `func` as asked by `call` on encoded `input` (the worker side of a registered
/// function; the expansion of `#[parallel(processes)]` and `pmap!(..; processes)` calls this
/// with the argument tuple's shape spelled out, e.g. `invoke::<_, (_,), _>`).
#[doc(hidden)]
pub fn invoke<F, Args, R>(func: F, call: Call, input: &[u8]) -> Result<Vec<u8>, String>
where
    F: Remote<Args, Output = R>,
    Args: ProcessArguments,
    R: ProcessResult,
{
    match call {
        Call::One => func
            .call(Args::decode(input)?)
            .encode_reusing(spare_output()),
        Call::Batch => {
            let started = Instant::now();
            let items = Args::decode_batch(input)?;
            let mut values = Vec::with_capacity(items.len());
            let mut failures = Vec::new();
            panic::catching(|| {
                for (position, args) in items.into_iter().enumerate() {
                    match catch_unwind(AssertUnwindSafe(|| func.call(args))) {
                        Ok(value) => values.push(value),
                        Err(payload) => {
                            let (message, location) = panic::parts_of(payload.as_ref());
                            failures.push((position as u64, message, location));
                        }
                    }
                }
            });
            R::encode_batch(&values, &failures, started.elapsed().as_nanos() as u64)
        }
        Call::Init => Err("a task function was named as an initializer".to_owned()),
    }
}

thread_local! {
    /// The buffer of the last large result this thread sent, handed back by the worker loop
    /// (`recycle_output`): the next result is encoded into its memory, whose pages are mapped
    /// already. Fresh memory for each large result cost a page fault per 4 KiB.
    static SPARE_OUTPUT: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// The largest result buffer a worker keeps.
const SPARE_OUTPUT_LIMIT: usize = 64 << 20;

/// The buffer to encode the next result into (empty, no allocation, if none was kept).
fn spare_output() -> Vec<u8> {
    SPARE_OUTPUT.take()
}

/// Hands back a result buffer after its answer went, for the next result (see
/// `SPARE_OUTPUT`); a small one is simply dropped.
pub(crate) fn recycle_output(output: Vec<u8>) {
    if output.capacity() > 64 << 10 && output.capacity() <= SPARE_OUTPUT_LIMIT {
        SPARE_OUTPUT.set(output);
    }
}

/// Runs `init` as a worker's initializer.
#[doc(hidden)]
pub fn invoke_initializer(init: fn(), call: Call, _input: &[u8]) -> Result<Vec<u8>, String> {
    match call {
        Call::Init => {
            init();
            Ok(Vec::new())
        }
        _ => Err("an initializer was named as a task function".to_owned()),
    }
}
