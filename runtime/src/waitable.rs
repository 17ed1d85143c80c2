//! [`Waitable`]: what `as_completed` and `wait` accept, so callers can carry a key beside
//! each future and tell which input finished.

use std::collections::HashSet;

use crate::future::task::Completion;
use crate::future::Future;

/// Something `as_completed` and `wait` can watch: a [`Future`], a reference to one, or a pair
/// `(key, future)` whose key says which input the future belongs to.
///
/// This trait is sealed: it is implemented for exactly those shapes.
///
/// # Examples
///
/// Python writes `futures = {pool.submit(load, url): url for url in urls}` and then
/// `url = futures[future]`. In Rust, keep the key beside the future:
///
/// ```
/// use parallel::{as_completed, ThreadPool};
///
/// let pool = ThreadPool::new();
/// let urls = ["a.org", "b.org", "c.org"];
/// let jobs = urls.map(|url| (url, pool.submit(move || url.len())));
/// for (url, future) in as_completed(jobs) {
///     println!("{url} has {} bytes", future.result().unwrap());
/// }
/// ```
///
/// or, literally as in Python, key a `HashMap` by future and watch its keys:
///
/// ```
/// use std::collections::HashMap;
/// use parallel::{as_completed, ThreadPool};
///
/// let pool = ThreadPool::new();
/// let futures: HashMap<_, _> = ["a.org", "b.org"]
///     .into_iter()
///     .map(|url| (pool.submit(move || url.len()), url))
///     .collect();
/// for future in as_completed(futures.keys()) {
///     println!("{} has {} bytes", futures[future], future.result().unwrap());
/// }
/// ```
pub trait Waitable: sealed::Sealed {
    #[doc(hidden)]
    fn completion(&self) -> &dyn Completion;
}

pub(crate) mod sealed {
    pub trait Sealed {}
    impl<T> Sealed for crate::future::Future<T> {}
    impl<W: Sealed + ?Sized> Sealed for &W {}
    impl<W: Sealed + ?Sized> Sealed for &mut W {}
    impl<K, W: Sealed> Sealed for (K, W) {}
}

impl<T> Waitable for Future<T> {
    fn completion(&self) -> &dyn Completion {
        Future::completion(self)
    }
}

impl<W: Waitable + ?Sized> Waitable for &W {
    fn completion(&self) -> &dyn Completion {
        (**self).completion()
    }
}

impl<W: Waitable + ?Sized> Waitable for &mut W {
    fn completion(&self) -> &dyn Completion {
        (**self).completion()
    }
}

impl<K, W: Waitable> Waitable for (K, W) {
    fn completion(&self) -> &dyn Completion {
        self.1.completion()
    }
}

/// The items of `items`, each distinct future once (the first occurrence is kept), as Python
/// turns its argument into a set.
pub(crate) fn distinct<W: Waitable>(items: impl IntoIterator<Item = W>) -> Vec<W> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter(|item| {
            seen.insert(item.completion() as *const dyn Completion as *const () as usize)
        })
        .collect()
}
