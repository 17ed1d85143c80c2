//! Progress bars (feature `progress`): [`Progress`] wraps a map or `as_completed` and draws a
//! bar on stderr, counting items, when stderr is a terminal.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::as_completed::AsCompleted;
use crate::map::Map;
use crate::scope::ScopedMap;
use crate::waitable::Waitable;

/// An iterator with a progress bar: one step per item it yields (not per batch). The bar is
/// drawn on stderr only when stderr is a terminal, finishes when the iterator ends, and is
/// left where it stopped if the iterator is dropped early.
///
/// # Examples
///
/// ```
/// let pool = parallel::ThreadPool::new();
/// let mut squares = pool.map(|x: u64| x * x, 0..100).progress();
/// let first: Vec<u64> = squares.by_ref().take(10).map(Result::unwrap).collect();
/// assert_eq!(first.len(), 10);
/// assert_eq!(squares.position(), 10);
/// ```
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct Progress<I> {
    inner: I,
    bar: ProgressBar,
}

impl<I: Iterator> Progress<I> {
    /// Wraps `inner`, drawing on stderr if it is a terminal.
    pub(crate) fn new(inner: I) -> Self {
        Self::with_target(inner, ProgressDrawTarget::stderr())
    }

    fn with_target(inner: I, target: ProgressDrawTarget) -> Self {
        let bar = match inner.size_hint() {
            (low, Some(high)) if low == high => {
                ProgressBar::with_draw_target(Some(high as u64), target).with_style(style(
                    "{wide_bar} {pos}/{len} items, {elapsed} ({eta} left)",
                ))
            }
            _ => ProgressBar::with_draw_target(None, target)
                .with_style(style("{spinner} {pos} items, {elapsed}")),
        };
        bar.enable_steady_tick(Duration::from_millis(100));
        Self { inner, bar }
    }

    /// How many items have been yielded.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// let mut doubled = pool.map(|x: u32| x * 2, 0..5).progress();
    /// doubled.next();
    /// doubled.next();
    /// assert_eq!(doubled.position(), 2);
    /// ```
    pub fn position(&self) -> u64 {
        self.bar.position()
    }

    /// Whether the bar is hidden (stderr is not a terminal).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// let squares = pool.map(|x: u64| x * x, 0..3).progress();
    /// // Under `cargo test`, stderr is captured: nothing is drawn.
    /// # let _ =
    /// squares.is_hidden();
    /// ```
    pub fn is_hidden(&self) -> bool {
        self.bar.is_hidden()
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).expect("the templates above are valid")
}

impl<I: Iterator> Iterator for Progress<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        let item = self.inner.next();
        match item {
            Some(_) => self.bar.inc(1),
            None => self.bar.finish(),
        }
        item
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<I, T> Progress<I>
where
    I: Iterator<Item = Result<T, crate::error::TaskError>>,
{
    /// Collects the results into a `Vec`, or gives the first failure, as
    /// [`Map::collect_vec`] does; item by item, so that the bar moves with each.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// let doubled = pool.map(|x: u64| x * 2, 0..100).progress().collect_vec().unwrap();
    /// assert_eq!(doubled[99], 198);
    /// ```
    pub fn collect_vec(self) -> Result<Vec<T>, crate::error::TaskError> {
        self.collect()
    }
}

impl<I> Drop for Progress<I> {
    /// Leaves the bar where it stopped, so an early end shows how far it got.
    fn drop(&mut self) {
        if !self.bar.is_finished() {
            self.bar.abandon();
        }
    }
}

impl<'a, I: Iterator, T> Map<'a, I, T> {
    /// Shows a progress bar on stderr (if it is a terminal) while the map yields its items
    /// (feature `progress`). Set the map's other options first.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{MapOptions, ThreadPool};
    /// let pool = ThreadPool::new();
    /// let options = MapOptions::new().chunksize(10);
    /// let total: u64 = pool.map_with(|x: u64| x * 2, 0..1000, options).progress().map(Result::unwrap).sum();
    /// assert_eq!(total, 999_000);
    /// ```
    pub fn progress(self) -> Progress<Self> {
        Progress::new(self)
    }
}

impl<S, F, T> ScopedMap<'_, S, F, T> {
    /// Shows a progress bar on stderr (if it is a terminal) while the map yields its items
    /// (feature `progress`). Set the map's other options first.
    ///
    /// # Examples
    ///
    /// ```
    /// let data: Vec<u32> = (0..500).collect();
    /// let total: u32 = parallel::scope(|s| {
    ///     s.map(|x: &u32| x * 2, &data).progress().map(Result::unwrap).sum()
    /// });
    /// assert_eq!(total, 249_500);
    /// ```
    pub fn progress(self) -> Progress<Self> {
        Progress::new(self)
    }
}

impl<W: Waitable> AsCompleted<W> {
    /// Shows a progress bar on stderr (if it is a terminal) as the futures finish (feature
    /// `progress`).
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{as_completed, ThreadPool};
    ///
    /// let pool = ThreadPool::new();
    /// let futures: Vec<_> = (0..20).map(|i| pool.submit(move || i)).collect();
    /// let finished = as_completed(&futures).progress().count();
    /// assert_eq!(finished, 20);
    /// ```
    pub fn progress(self) -> Progress<Self> {
        Progress::new(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MapOptions, ThreadPool};

    #[test]
    fn counts_items_not_batches_and_finishes_at_the_end() {
        let pool = ThreadPool::builder().workers(2).build().unwrap();
        let mut bar = Progress::with_target(
            pool.map_with(|x: u32| x, 0..1000, MapOptions::new().chunksize(100)),
            ProgressDrawTarget::hidden(),
        );
        assert_eq!(
            bar.bar.length(),
            Some(1000),
            "the length is known from the input"
        );
        assert_eq!(bar.by_ref().take(250).count(), 250);
        assert_eq!(
            bar.position(),
            250,
            "one step per item, though batches hold 100"
        );
        assert_eq!(bar.by_ref().count(), 750);
        assert!(bar.bar.is_finished());
    }

    #[test]
    fn failed_items_count_and_an_early_drop_leaves_the_bar_where_it_was() {
        let pool = ThreadPool::builder().workers(1).build().unwrap();
        let map = pool.map(|x: u32| if x % 2 == 0 { panic!("even") } else { x }, 0..10);
        let mut bar = Progress::with_target(map, ProgressDrawTarget::hidden());
        let failed = bar.by_ref().take(4).filter(Result::is_err).count();
        assert_eq!((failed, bar.position()), (2, 4));
        let handle = bar.bar.clone();
        drop(bar);
        assert!(handle.is_finished(), "abandoned, not left running");
        assert_eq!(handle.position(), 4);
    }

    #[test]
    fn an_endless_input_gets_a_spinner() {
        let pool = ThreadPool::builder().workers(1).build().unwrap();
        let mut bar =
            Progress::with_target(pool.map(|x: u64| x, 0..), ProgressDrawTarget::hidden());
        assert_eq!(bar.bar.length(), None);
        assert_eq!(bar.by_ref().take(3).count(), 3);
        assert_eq!(bar.position(), 3);
    }

    #[test]
    fn hidden_when_stderr_is_not_a_terminal() {
        use std::io::IsTerminal;
        let pool = ThreadPool::builder().workers(1).build().unwrap();
        let bar = pool.map(|x: u8| x, 0..3).progress();
        assert_eq!(bar.is_hidden(), !std::io::stderr().is_terminal());
    }
}
