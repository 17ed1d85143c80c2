//! The `#[parallel]` attribute and the `pmap!` macro of the
//! [`parallel`](https://docs.rs/parallel) crate. Use them through that crate, which documents
//! them and provides what their expansions call.
#![forbid(unsafe_code)]

mod captures;
mod diagnostics;
mod duration;
mod expand;
mod parse;
mod validate;
mod values;

use proc_macro::TokenStream;

/// Runs a function on a pool: calling it submits the call and returns a
/// [`parallel::Future`](../parallel/struct.Future.html) at once.
///
/// ```
/// use parallel::parallel;
///
/// #[parallel(threads = 4)]
/// fn download(file: String) -> String {
///     format!("{file} downloaded")
/// }
///
/// let future = download("a.pdf".into()); // returns at once
/// assert_eq!(future.result().unwrap(), "a.pdf downloaded");
/// assert_eq!(download::sync("b.pdf".into()), "b.pdf downloaded"); // the original, on this thread
/// ```
///
/// # Arguments
///
/// All optional; combine them where it makes sense.
///
/// | argument | meaning |
/// |---|---|
/// | (none) | run on the process-wide default thread pool ([`default_pool`](../parallel/fn.default_pool.html)) |
/// | `threads` | a thread pool of the function's own, with the default number of workers, started on the first call and kept for the program |
/// | `threads = N` | the same with `N` workers: a literal or a constant expression of type `usize` (`WORKERS`, `2 * CORES`), evaluated at compile time, where 0 is refused |
/// | `processes` | a pool of worker processes of the function's own (as many as the machine's available parallelism), started on the first call: for CPU-bound work |
/// | `processes = N` | the same with `N` worker processes (a constant expression, as for `threads = N`) |
/// | `mpi` | the worker ranks of the MPI job the program runs in (feature `mpi`): run it as `mpirun -n N ./app`, rank 0 runs `main` and the other ranks serve, with nothing to set up; without a launcher, local worker processes (see [`MpiPool`](../parallel/struct.MpiPool.html)) |
/// | `pool = PATH` | a thread pool the program declared, shared by several functions |
/// | `name = "prefix"` | the worker thread name prefix of the function's own thread pool (default: the function's name) |
/// | `timeout = "2s"` | per-call deadline (`us`, `ms`, `s`, `m`, `h`), counted from when the call starts running: the future then fails with `TimedOut`. A process is killed and replaced; a thread or an MPI rank cannot be stopped, so its body runs on and its value is dropped |
/// | `initializer = PATH` | a `fn()` run once in each worker of the function's own pool before its first task (with `mpi`, once on every worker rank); in processes and ranks, if it panics the pool is broken and every call fails with `Broken` |
/// | `max_tasks_per_child = N` | processes: replace a worker with a fresh process after `N` tasks |
/// | `retries = N` | processes: run a call again, in a new worker, when its worker dies (not when it panics or times out), up to `N` more times |
/// | `max_frame = BYTES` | processes: the largest encoded argument tuple or result that crosses to or from a worker (default 1 GiB); a larger one fails its call with `Codec` (a constant expression, as for `threads = N`) |
///
/// `threads = N`, with a literal or a constant expression:
///
/// ```
/// # use parallel::parallel;
/// #[parallel(threads = 2)]
/// fn where_am_i() -> String {
///     std::thread::current().name().unwrap().to_owned()
/// }
/// assert!(where_am_i().result().unwrap().starts_with("where_am_i-"));
///
/// const CORES: usize = 2;
///
/// #[parallel(threads = 2 * CORES)]
/// fn crunch(x: u64) -> u64 { x * x }
/// assert_eq!(crunch::pool().workers(), 4);
/// ```
///
/// `pool = PATH`, `name` and `initializer`:
///
/// ```
/// use std::sync::LazyLock;
/// use parallel::{parallel, ThreadPool};
///
/// static IO: LazyLock<ThreadPool> = LazyLock::new(|| ThreadPool::builder().workers(8).build().unwrap());
///
/// #[parallel(pool = IO)]
/// fn fetch(url: String) -> usize { url.len() }
///
/// #[parallel(pool = IO)]
/// fn store(bytes: Vec<u8>) -> bool { !bytes.is_empty() }
///
/// fn connect() { /* open a connection for this worker */ }
///
/// #[parallel(threads = 2, name = "db", initializer = connect)]
/// fn query(sql: String) -> String {
///     format!("{sql} on {}", std::thread::current().name().unwrap())
/// }
///
/// assert_eq!(fetch("a.org".into()).result(), Ok(5));
/// assert_eq!(store(vec![1]).result(), Ok(true));
/// assert!(query("select 1".into()).result().unwrap().contains("on db-"));
/// ```
///
/// `timeout`:
///
/// ```
/// # use parallel::parallel;
/// #[parallel(timeout = "50ms")]
/// fn stuck() { std::thread::sleep(std::time::Duration::from_secs(2)) }
///
/// assert!(stuck().result().unwrap_err().is_timed_out());
/// ```
///
/// `processes`: the function runs in worker processes, which are this program started again.
/// There is nothing to set up in `main`. Arguments and results travel encoded with serde, so
/// their types must implement `Serialize` and `Deserialize`. A worker that crashes fails only
/// the call it was running:
///
/// ```
/// # use parallel::parallel;
/// #[parallel(processes = 2, timeout = "30s", max_tasks_per_child = 100)]
/// fn digits(n: u64) -> usize {
///     if n == 0 {
///         std::process::abort(); // kills this worker only
///     }
///     n.to_string().len()
/// }
///
/// assert_eq!(digits(12345).result(), Ok(5));
/// assert!(digits(0).result().unwrap_err().is_worker_died());
/// assert_eq!(digits(99).result(), Ok(2), "a fresh worker took over");
/// assert_ne!(where_runs().result().unwrap(), std::process::id());
///
/// #[parallel(processes = 1)]
/// fn where_runs() -> u32 { std::process::id() }
/// ```
///
/// `max_frame`, and the pool of a process function, reached to read its size or shut it down:
///
/// ```
/// # use parallel::parallel;
/// #[parallel(processes = 1, max_frame = 1 << 20)]
/// fn total(bytes: Vec<u8>) -> u64 { bytes.iter().map(|&b| u64::from(b)).sum() }
///
/// assert_eq!(total(vec![1; 1000]).result(), Ok(1000));
/// assert!(total(vec![1; 2 << 20]).result().unwrap_err().is_codec(), "over a MiB");
///
/// let pool: &'static parallel::ProcessPool = total::pool();
/// assert_eq!(pool.workers(), 1);
/// pool.shutdown(true, false); // its workers exit; later calls fail with `ShutDown`
/// assert!(total(vec![]).result().unwrap_err().is_shut_down());
/// ```
///
/// `mpi` (feature `mpi`): the function runs on the worker ranks of an MPI job, as it would in
/// worker processes (arguments and results through serde, the same checks at compile time).
/// Start the program with a launcher; rank 0 runs `main`, the other ranks become workers
/// before `main`:
///
/// ```text
/// #[parallel(mpi, timeout = "10m", initializer = load_tables)]
/// fn simulate(seed: u64) -> Summary { .. }
///
/// $ mpirun -n 64 ./app        # or mpiexec, or srun --mpi=pmix
/// ```
///
/// MPI is fail-stop: a rank that dies ends the whole job (so `retries` and
/// `max_tasks_per_child` are refused with `mpi`), and a `timeout` stops waiting but cannot
/// stop the rank. Without a launcher the calls run in local worker processes, with a notice.
///
/// # What it keeps, and what it makes
///
/// The function keeps its name, visibility, doc comments and other attributes. For a
/// function `name`:
///
/// - `name` is a function `fn(args) -> Future<R>` (R is the return type): calling it
///   submits the call; it is usable wherever a function is (`.map(name)`, a `fn` pointer),
///   and rustdoc shows it so;
/// - `name::sync(args)` is the original function, run on the calling thread;
/// - `name::pool()` is the pool it runs on (`&'static ThreadPool`, `&'static ProcessPool`, or
///   with `mpi` `&'static MpiPool`): its own, started by the first call of either, a declared
///   one, or the default pool; to read its size or shut it down;
/// - [`pmap!(name, items)`](macro@pmap) runs the original over `items` in batches, on the
///   function's own pool (it finds the pool by the function's type, registered at compile
///   time, once per call: nothing per item);
/// - with `processes`, any [`ProcessPool`](../parallel/struct.ProcessPool.html) can run it:
///   `pool.submit(name, (args,))`.
///
/// A generic function is a generic `fn` returning `Future<R>`: its arguments must be
/// `Send + 'static`, and `pmap!` of it submits each item (it cannot be registered; map
/// `name::sync` for batches). With `processes` a function cannot be generic: workers find it
/// by its name.
///
/// ```
/// use parallel::{parallel, Future};
///
/// #[parallel]
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// let futures: Vec<Future<u64>> = (1..=3).map(square).collect();
/// let square = square(4); // a `let` may take the function's name
/// assert_eq!(square.result(), Ok(16));
/// assert_eq!(futures[2].result(), Ok(9));
/// ```
///
/// ```
/// # use parallel::parallel;
/// #[parallel]
/// fn describe<T: std::fmt::Debug + Send + 'static>(value: T) -> String {
///     format!("{value:?}")
/// }
/// assert_eq!(describe(vec![1, 2]).result().unwrap(), "[1, 2]");
/// assert_eq!(describe::sync('x'), "'x'");
/// ```
///
/// # Compile-time errors
///
/// Python finds these at run time; here the build fails, pointing at the mistake and saying
/// what to write instead.
///
/// Unknown, repeated, or wrong-valued arguments:
///
/// ```compile_fail
/// # use parallel::parallel;
/// #[parallel(threds = 4)] // unknown argument `threds`; did you mean `threads`?
/// fn f() {}
/// ```
///
/// ```compile_fail
/// # use parallel::parallel;
/// #[parallel(threads = 0)] // a pool with no workers never runs anything
/// fn f() {}
/// ```
///
/// ```compile_fail
/// # use parallel::parallel;
/// #[parallel(threads = 2, pool = POOL)] // pick one of `threads` or `pool`
/// fn f() {}
/// ```
///
/// A constant expression that is 0 is refused when the compiler evaluates it:
///
/// ```compile_fail
/// # use parallel::parallel;
/// const WORKERS: usize = 0;
///
/// #[parallel(threads = WORKERS)] // `threads = WORKERS` is 0: a pool with no workers never runs anything
/// fn f() {}
/// ```
///
/// Functions that cannot run elsewhere (`async`, `const`, `unsafe`, methods):
///
/// ```compile_fail
/// # use parallel::parallel;
/// #[parallel]
/// async fn f() {} // drop `async` (the returned future can be awaited)
/// ```
///
/// ```compile_fail
/// # use parallel::parallel;
/// struct S;
/// impl S {
///     #[parallel]
///     fn f(&self) {} // take the value as an argument instead
/// }
/// ```
///
/// Borrowed arguments, which cannot travel to another thread:
///
/// ```compile_fail
/// # use parallel::parallel;
/// #[parallel]
/// fn shout(text: &str) -> String { text.to_uppercase() } // take `String`
/// ```
///
/// Types that cannot cross threads, named in the error:
///
/// ```compile_fail
/// # use parallel::parallel;
/// #[parallel]
/// fn count(items: std::rc::Rc<Vec<u8>>) -> usize { items.len() } // `Rc<Vec<u8>>` cannot be moved to a worker thread
/// ```
///
/// Types that cannot travel to a process (Python finds this at run time, as a pickling
/// error):
///
/// ```compile_fail
/// # use parallel::parallel;
/// struct Report { lines: Vec<String> }
///
/// #[parallel(processes)]
/// fn report(depth: u32) -> Report { Report { lines: vec![depth.to_string()] } } // `Report` cannot come back from a worker process
/// ```
///
/// ```compile_fail
/// # use parallel::parallel;
/// #[parallel(processes)]
/// fn describe<T: std::fmt::Debug>(value: T) -> String { format!("{value:?}") } // cannot be generic
/// ```
#[proc_macro_attribute]
pub fn parallel(args: TokenStream, item: TokenStream) -> TokenStream {
    attribute(args.into(), item.into()).into()
}

/// A parallel `map` over one or more iterables: `pmap!(f, items)`, `pmap!(f, xs, ys)`,
/// `pmap!(f, items; options)`.
///
/// Yields one `Result<T, parallel::TaskError>` per item, in input order (Python's
/// `Executor.map`, without its stop at the first error). Items are batched, so an item costs a
/// few nanoseconds of overhead however cheap it is, and only a bounded number are in flight,
/// so an endless iterator is fine.
///
/// ```
/// use parallel::{parallel, pmap};
///
/// fn square(x: u64) -> u64 { x * x }
///
/// // `collect_vec` gathers the results, or the first error: `collect::<Result<Vec<_>, _>>()`,
/// // faster (each batch is moved in one copy).
/// let squares: Vec<u64> = pmap!(square, 1..=4).collect_vec().unwrap();
/// assert_eq!(squares, [1, 4, 9, 16]);
///
/// // Several iterables are zipped, one per argument, up to the shortest (Python's map(f, *its)).
/// let sums: Vec<i32> = pmap!(|a, b| a + b, 0..10, std::iter::repeat(1))
///     .collect::<Result<_, _>>()
///     .unwrap();
/// assert_eq!(sums, (1..=10).collect::<Vec<_>>());
///
/// // A `#[parallel]` function runs on its own pool.
/// #[parallel(threads = 2)]
/// fn download(file: String) -> String { format!("{file} downloaded") }
///
/// for text in pmap!(download, ["a.pdf".to_string(), "b.pdf".to_string()]) {
///     println!("{}", text.unwrap());
/// }
/// ```
///
/// `f` may be a path to a function, a closure (it must be `'static`: `move` what it
/// captures), or a `#[parallel]` function. A `#[parallel]` function runs on its own pool
/// (threads or processes); anything else on the default pool, unless `threads = N` or
/// `processes` gives the call site a pool of its own, or `pool = P` names one.
///
/// The options choose where the map runs, for a `#[parallel]` function too: with
/// `threads = N` or `pool = P`, a `#[parallel(processes)]` function's original body runs on
/// those threads, in this process (the way to run it locally: to debug it, or when its items
/// are cheaper to share than to send); with `processes`, any function runs in worker
/// processes of the call site's own.
///
/// # Options
///
/// | option | meaning |
/// |---|---|
/// | `threads = N` | run on a pool of `N` threads of this call site's own (started once, kept for the program); `N` a literal or a constant expression of type `usize` |
/// | `pool = P` | run on the thread pool `P`: a `ThreadPool`, a reference to one, or a `static` `LazyLock<ThreadPool>`; the map borrows it |
/// | `processes` / `processes = N` | run in worker processes of this call site's own (default: available parallelism); `f` must be a function path or a closure whose arguments are typed and which captures nothing |
/// | `mpi` | run on the worker ranks of the MPI job the program runs in (feature `mpi`; `mpirun -n N ./app`), or without a launcher in local worker processes; `f` as for `processes` |
/// | `scope = s` | run on the pool of the scope `s` (see `parallel::scope`): `f` and the items may borrow; one slice, vector, array or range is read in place |
/// | `chunksize = N` | `N` items per task (a constant expression, as for `threads = N`); by default batches are sized from the measured cost of items |
/// | `ordered = false` | yield in completion order (Python's `imap_unordered`) |
/// | `timeout = "5s"` | a deadline for the whole map, counted from the `pmap!` call: an item not done by then yields `TimedOut` and the map ends |
/// | `progress` | a progress bar on stderr, counting items, drawn only when stderr is a terminal (feature `progress`) |
/// | `retries = N` | with `processes`: run a batch again, in a new worker, when its worker dies, up to `N` more times |
///
/// The map starts at the call, as Python's does: the first batches are submitted before
/// `pmap!` returns. Dropping the map cancels what has not started.
///
/// In a scope, the function and the items may borrow:
///
/// ```
/// # use parallel::pmap;
/// let data: Vec<u64> = (0..100).collect();
/// let offset = 1;
/// let total: u64 = parallel::scope(|s| pmap!(|x| x + offset, &data; scope = s).map(Result::unwrap).sum());
/// assert_eq!(total, 5050);
/// ```
///
/// ```
/// # use parallel::pmap;
/// let mut done: Vec<u32> = pmap!(|x: u32| x * 2, 0..100; threads = 2, chunksize = 10, ordered = false, timeout = "30s")
///     .map(Result::unwrap)
///     .collect();
/// done.sort();
/// assert_eq!(done, (0..100).map(|x| x * 2).collect::<Vec<_>>());
/// ```
///
/// On a pool of the program's, and a process function run on threads here:
///
/// ```
/// use parallel::{parallel, pmap, ThreadPool};
///
/// let pool = ThreadPool::builder().workers(2).name_prefix("mine").build().unwrap();
/// let names: Vec<String> = pmap!(|_: u8| std::thread::current().name().unwrap().to_owned(), 0..4; pool = pool)
///     .map(Result::unwrap)
///     .collect();
/// assert!(names.iter().all(|name| name.starts_with("mine-")));
///
/// #[parallel(processes = 1)]
/// fn pid(_: u8) -> u32 { std::process::id() }
///
/// let here: Vec<u32> = pmap!(pid, 0..4; threads = 2).map(Result::unwrap).collect();
/// assert!(here.iter().all(|&pid| pid == std::process::id()), "its body ran on threads here");
/// ```
///
/// In processes:
///
/// ```
/// # use parallel::pmap;
/// fn collatz_steps(mut n: u64) -> u32 {
///     let mut steps = 0;
///     while n != 1 {
///         n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
///         steps += 1;
///     }
///     steps
/// }
///
/// let steps: Vec<u32> = pmap!(collatz_steps, 1..=5; processes = 2).map(Result::unwrap).collect();
/// assert_eq!(steps, [0, 1, 7, 2, 5]);
/// let doubled: Vec<u64> = pmap!(|x: u64| x * 2, [1, 2]; processes = 1).map(Result::unwrap).collect();
/// assert_eq!(doubled, [2, 4]);
/// ```
///
/// # Compile-time errors
///
/// ```compile_fail
/// # use parallel::pmap;
/// fn square(x: u64) -> u64 { x * x }
/// let _ = pmap!(square); // `pmap!` needs an iterable after the function
/// ```
///
/// ```compile_fail
/// # use parallel::pmap;
/// let factor = 3u64;
/// let _ = pmap!(|x: u64| x * factor, 0..10; processes); // pass the value as an argument instead
/// ```
///
/// ```compile_fail
/// # use parallel::pmap;
/// let _ = pmap!(|a, b| a + b, 0..10); // this closure takes 2 arguments but was given 1 iterable
/// ```
///
/// ```compile_fail
/// # use parallel::pmap;
/// let _ = pmap!(|x: u8| x, 0..10; chunks = 4); // unknown `pmap!` option `chunks`
/// ```
///
/// ```compile_fail
/// # use parallel::pmap;
/// let pool = parallel::ProcessPool::new();
/// let _ = pmap!(|x: u8| x, 0..10; pool = pool); // `ProcessPool` is not a thread pool that `pmap!(..; pool = ..)` can run on
/// ```
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
    let settings = parse::settings(args, &parse::ATTRIBUTE_KEYS, "argument", &mut diag);
    validate::attribute(&settings, &func, &mut diag);
    if diag.any() {
        return diag.with(expand::stand_in(&settings, &func)); // callers see what they expect: one error
    }
    expand::attribute(&settings, &func)
}

fn pmap_macro(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let mut diag = diagnostics::Diagnostics::default();
    let input: parse::Pmap = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let settings = parse::settings(
        input.options.clone(),
        &parse::PMAP_KEYS,
        parse::PMAP_OPTION,
        &mut diag,
    );
    validate::pmap(&input, &settings, &mut diag);
    if diag.any() {
        // The errors as statements, then an expression of any type, so that code using the
        // result reports nothing more: a call that returns it, not `unreachable!()`, whose
        // type `!` would make the code after it "unreachable" (a warning beside the error).
        let errors = diag.with(proc_macro2::TokenStream::new());
        return quote::quote!({ #errors ::parallel::__private::pmap::stand_in() });
    }
    expand::pmap(&input, &settings)
}
