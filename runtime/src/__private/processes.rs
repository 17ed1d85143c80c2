//! What a `#[parallel(processes)]` function and `pmap!(..; processes)` expand to call: the
//! pool, the one place that checks that a function's arguments and result can cross to a
//! worker process ([`Signature`]), its submission and its worker-side entry point.

use std::cell::Cell;
use std::marker::PhantomData;
use std::time::Duration;

use super::registry;
use super::threads::{Batch, ThreadFn};
use crate::error::TaskError;
use crate::future::Future;
use crate::map::Chunk;
use crate::map::{Map, MapOptions};
use crate::process_pool::{invoke as invoke_with, BatchCodec, Enqueue, ProcessPool, RemoteFn};

pub use crate::process_pool::{
    invoke_initializer, Call, ProcessArgument, ProcessArguments, ProcessItem, ProcessResult,
    Remote, RemoteEntry, REMOTE_FUNCTIONS,
};

/// What a registered function's entry point returns: the encoded output, or a message about
/// input or output that could not be encoded.
pub type Reply = Result<Vec<u8>, String>;

/// The settings of the pool of a `#[parallel(processes ..)]` function or a
/// `pmap!(..; processes ..)` call site: what the attribute's options set, `None` for the
/// builder's default.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// `processes = N`.
    pub workers: Option<usize>,
    /// `initializer = PATH`: its registered name.
    pub initializer: Option<&'static str>,
    /// `max_tasks_per_child = N`.
    pub max_tasks_per_child: Option<usize>,
    /// `max_frame = BYTES`.
    pub max_frame: Option<usize>,
    /// `retries = N`.
    pub retries: u32,
}

impl PoolSettings {
    /// No option given.
    pub const DEFAULT: Self = Self {
        workers: None,
        initializer: None,
        max_tasks_per_child: None,
        max_frame: None,
        retries: 0,
    };
}

/// Starts the pool of a `#[parallel(processes ..)]` function or a `pmap!(..; processes ..)`
/// call site.
///
/// # Panics
///
/// If the settings are refused (none are: counts were checked at compile time).
pub fn process_pool(settings: PoolSettings) -> ProcessPool {
    let mut builder = ProcessPool::builder().retries(settings.retries);
    if let Some(workers) = settings.workers {
        builder = builder.workers(workers);
    }
    if let Some(name) = settings.initializer {
        builder = builder.initializer_named(name);
    }
    if let Some(tasks) = settings.max_tasks_per_child {
        builder = builder.max_tasks_per_child(tasks);
    }
    if let Some(bytes) = settings.max_frame {
        builder = builder.max_frame(bytes);
    }
    builder
        .build()
        .unwrap_or_else(|error| panic!("could not make a process pool: {error}"))
}

/// The argument tuple, result and registered name of a `#[parallel(processes)]` function,
/// implemented by the function's companion. Its bounds are the one place where the types
/// must be serializable, so a type that is not is reported once, here.
pub trait Signature {
    /// The argument tuple.
    type Args: ArgumentTuple;
    /// The result.
    type Output: ProcessResult;
    /// The name workers find the function by: `module::path::name#fn(T0) -> R`.
    const NAME: &'static str;
}

/// What [`Signature::Args`] is bound by: the [`ProcessArguments`] of a tuple. A trait with
/// one impl, so that an argument that cannot travel is reported as that (its type named),
/// without a list of the tuples that do.
pub trait ArgumentTuple: ProcessArguments {}

impl<T: ProcessArguments> ArgumentTuple for T {}

/// The argument tuple `T` of a [`Signature`]: an alias, so that the expansion can span its
/// tokens over the argument types (an error about one then points at the arguments).
pub type Arguments<T> = T;

/// A pool that runs registered functions: a [`ProcessPool`], or with the `mpi` feature an
/// `MpiPool`, whose worker ranks run the same functions. What the expansions of
/// `#[parallel(processes)]`, `#[parallel(mpi)]` and their `pmap!`s submit to; its methods are
/// the crate's own (`Enqueue`).
#[allow(private_bounds)]
pub trait RemotePool: Enqueue + 'static {}

#[allow(private_bounds)]
impl<P: Enqueue + 'static> RemotePool for P {}

/// Submits a call of the `#[parallel(processes)]` (or `#[parallel(mpi)]`) function `S` with
/// `args`, on `pool`, with the function's `timeout` if it has one.
pub fn submit<S: Signature, P: RemotePool>(
    pool: &P,
    timeout: Option<Duration>,
    args: S::Args,
) -> Future<S::Output> {
    pool.submit_args::<S::Args, S::Output>(S::NAME, args, timeout)
}

/// The worker-side entry point of the `#[parallel(processes)]` function `S`: runs its
/// original body `body` on the encoded `input`.
pub fn invoke<S, F>(body: F, call: Call, input: &[u8]) -> Reply
where
    S: Signature,
    F: Remote<S::Args, Output = S::Output>,
{
    invoke_with::<F, S::Args, S::Output>(body, call, input)
}

/// What the registry holds for a non-generic `#[parallel(processes)]` function (and, with
/// `P = MpiPool`, a `#[parallel(mpi)]` one). Its codec functions are instantiated where the
/// function is defined, where its types are known to be serializable, so that `pmap!` can map
/// it without knowing so itself.
pub struct ProcessFn<Args, T, P: 'static = ProcessPool> {
    /// The name workers find it by.
    pub name: &'static str,
    /// Its own pool.
    pub pool: fn() -> &'static P,
    /// Its original body over a batch, for `pmap!(f, ..; threads = N)`.
    pub batch: fn(Vec<Args>, Vec<T>) -> Batch<Args, T>,
    /// Its original body, for a worker that serves a `pmap!(f, ..; processes)` call site.
    pub call: fn(Args) -> T,
    /// Encodes a batch of argument tuples ([`encode_batch`]).
    pub encode: fn(&[Args]) -> Result<Vec<u8>, String>,
    /// Decodes a batch's results ([`decode_batch`]).
    pub decode: fn(&[u8], u32) -> Result<Chunk<T>, TaskError>,
}

/// [`ProcessFn::encode`] for the function `S`.
pub fn encode_batch<S: Signature>(items: &[S::Args]) -> Result<Vec<u8>, String> {
    S::Args::encode_batch(items)
}

/// [`ProcessFn::decode`] for the function `S`.
pub fn decode_batch<S: Signature>(bytes: &[u8], pid: u32) -> Result<Chunk<S::Output>, TaskError> {
    (BatchCodec::<S::Args, S::Output>::of().decode)(bytes, pid)
}

// Only a crate-private method: the bound on the crate's own trait is not visible outside.
#[allow(private_bounds)]
impl<Args: Send + 'static, T: Send + 'static, P: Enqueue> ProcessFn<Args, T, P> {
    /// Maps the function over `items` on its own pool.
    pub(crate) fn map<I>(&'static self, items: I, options: MapOptions) -> Map<'static, I, T>
    where
        I: Iterator<Item = Args>,
    {
        let codec = BatchCodec {
            encode: self.encode,
            decode: self.decode,
        };
        (self.pool)().map_encoded(self.name, codec, items, options)
    }
}

/// Every non-generic `#[parallel(processes)]` function is a [`RemoteFn`]: its item type is
/// registered, with its name (see `registry`). `do_not_recommend`: what else is given (a
/// closure, a plain function) is reported as not being a `RemoteFn`, with its hint, rather
/// than as a mismatch of this impl's bounds.
#[diagnostic::do_not_recommend]
impl<F, Args, T> RemoteFn<Args> for F
where
    F: Remote<Args, Output = Future<T>> + Copy + Send + Sync + 'static,
    Args: ProcessArguments,
    T: ProcessResult,
{
    type Output = T;

    fn name(&self) -> Option<&'static str> {
        let name = registry::find::<F, ProcessFn<Args, T>>().map(|function| function.name);
        #[cfg(feature = "mpi")]
        let name = name.or_else(|| super::mpi::find::<F, Args, T>().map(|function| function.name));
        name
    }
}

/// A function of an argument tuple given as a plain `fn`: what a registered body is called
/// through by the codec's `invoke`.
struct Body<Args, T>(fn(Args) -> T);

impl<Args, T> Remote<Args> for Body<Args, T> {
    type Output = T;

    fn call(&self, args: Args) -> T {
        (self.0)(args)
    }
}

/// What a function given to `pmap!(..; processes)` by path returns, and how a worker runs
/// it: a value that crosses as it is, or the future of a `#[parallel]` function, whose
/// registered original body the worker runs instead.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot come back from a worker process",
    label = "`{Self}` must be serializable and own its data",
    note = "derive `serde::Serialize` and `serde::Deserialize` for it (or use a type that has them)"
)]
pub trait RemoteOutput<F, Args> {
    /// What travels back.
    type Value: ProcessResult;
    /// Runs `func` (or what it stands for) as asked by `call` on encoded `input`.
    fn invoke(func: F, call: Call, input: &[u8]) -> Reply;
}

// `do_not_recommend`: a result that cannot travel is reported with this trait's message.
#[diagnostic::do_not_recommend]
impl<F, Args, R> RemoteOutput<F, Args> for R
where
    F: Remote<Args, Output = R>,
    Args: ProcessArguments,
    R: ProcessResult,
{
    type Value = R;

    fn invoke(func: F, call: Call, input: &[u8]) -> Reply {
        invoke_with::<F, Args, R>(func, call, input)
    }
}

// `do_not_recommend` too, so that an error about a plain result does not list this impl.
#[diagnostic::do_not_recommend]
impl<F, Args, T> RemoteOutput<F, Args> for Future<T>
where
    F: 'static,
    Args: ProcessArguments,
    T: ProcessResult,
{
    type Value = T;

    fn invoke(_func: F, call: Call, input: &[u8]) -> Reply {
        if let Some(function) = registry::find::<F, ProcessFn<Args, T>>() {
            return invoke_with::<_, Args, T>(Body(function.call), call, input);
        }
        if let Some(function) = registry::find::<F, ThreadFn<Args, T>>() {
            return invoke_with::<_, Args, T>(Body(function.call), call, input);
        }
        #[cfg(feature = "mpi")]
        if let Some(function) = super::mpi::find::<F, Args, T>() {
            return invoke_with::<_, Args, T>(Body(function.call), call, input);
        }
        Err(
            "`pmap!(..; processes)` was given a function that returns a future but is not a \
             non-generic `#[parallel]` function, so a worker process cannot run it"
                .to_owned(),
        )
    }
}

/// The worker side of `pmap!(f, ..; processes)` for a path or closure `func`, registered
/// at the call site.
pub fn invoke_path<F, Args>(func: F, call: Call, input: &[u8]) -> Reply
where
    F: Remote<Args>,
    F::Output: RemoteOutput<F, Args>,
{
    <F::Output as RemoteOutput<F, Args>>::invoke(func, call, input)
}

/// The worker side of `pmap!(f, ..; processes)`, waiting for the dispatch between
/// [`Invoke`] (the function's types can travel: the real entry point) and [`Unreachable`]
/// (they cannot). The expansion calls `(&entry::<_, Args>(f)).invoke(call, input)`: method
/// resolution tries `Invoke`, whose receiver needs no auto-reference, first. A function whose
/// types cannot travel is reported once, where the map is written (the caller's side checks
/// the same types); without the fallback, the worker's entry point, a function of its own,
/// would report it a second time.
pub struct Entry<F, Args> {
    func: Cell<Option<F>>,
    args: PhantomData<fn(Args)>,
}

/// The function of `pmap!(f, ..; processes)`, for the worker's dispatch.
pub fn entry<F: Remote<Args>, Args>(func: F) -> Entry<F, Args> {
    Entry {
        func: Cell::new(Some(func)),
        args: PhantomData,
    }
}

/// The worker's entry point of a function whose types can travel.
pub trait Invoke {
    /// Runs the function as asked by `call` on encoded `input`.
    fn invoke(&self, call: Call, input: &[u8]) -> Reply;
}

// The same bounds as `invoke_path`'s, and no more: the fallback is chosen only where they do
// not hold, which the map's own call then reports.
impl<F, Args> Invoke for Entry<F, Args>
where
    F: Remote<Args>,
    F::Output: RemoteOutput<F, Args>,
{
    fn invoke(&self, call: Call, input: &[u8]) -> Reply {
        let func = self.func.take().expect("a worker's entry runs once");
        invoke_path::<F, Args>(func, call, input)
    }
}

/// The fallback of [`Invoke`], for a function whose types cannot travel: never runs, since
/// the map's own call fails to compile then.
pub trait Unreachable {
    /// Never called.
    fn invoke(&self, call: Call, input: &[u8]) -> Reply;
}

impl<F, Args> Unreachable for &Entry<F, Args> {
    fn invoke(&self, _call: Call, _input: &[u8]) -> Reply {
        Err("a function whose types cannot travel was mapped in processes".to_owned())
    }
}

/// `pmap!(f, items; processes ..)` (or `mpi`) for a function path or closure registered at
/// the call site as `name`, on the call site's `pool`; `f` only gives the types.
pub fn pmap<'a, F, Args, I, P>(
    _types_of: F,
    name: &'static str,
    pool: &'a P,
    items: I,
    options: super::pmap::MapOptions<'_>,
) -> Map<'a, I, <F::Output as RemoteOutput<F, Args>>::Value>
where
    F: Remote<Args>,
    F::Output: RemoteOutput<F, Args>,
    Args: ArgumentTuple,
    I: Iterator,
    I::Item: ProcessItem<Args> + 'a,
    P: RemotePool,
{
    let codec =
        BatchCodec::<I::Item, <F::Output as RemoteOutput<F, Args>>::Value>::for_items::<Args>();
    pool.map_encoded(name, codec, items, options.map())
}
