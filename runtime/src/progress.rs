//! Progress bars (feature `progress`): [`Progress`] wraps a map or `as_completed` and draws a
//! bar on stderr, counting items, when stderr is a terminal; it takes a label, and it and its
//! [`ProgressHandle`] print above the running bar.

use std::borrow::Cow;
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
/// # Printing while a bar runs
///
/// A bar is redrawn in place, on the last line of the terminal. A line printed with
/// `println!` while it is drawn goes past the bar, and the bar, redrawn below the line,
/// leaves its old copy above it: one stale bar per line printed. Print through the bar instead:
/// [`println`](Self::println) prints a line above it, and [`suspend`](Self::suspend) clears it
/// while a closure runs (for `println!`, `eprintln!` or a logger), then draws it again.
/// `println` prints on stdout, as `println!` would, whether the bar is drawn or not, so output
/// sent to a file or a pipe is the same (unlike indicatif's own `println`, which draws on the
/// bar's stderr and prints nothing when the bar is hidden). Inside a `for` loop over the bar,
/// or in the tasks themselves, use a [`handle`](Self::handle), which does the same from any
/// thread.
///
/// # Examples
///
/// ```
/// let pool = parallel::ThreadPool::new();
/// let mut squares = pool.map(|x: u64| x * x, 0..100).progress().label("squares");
/// let first: Vec<u64> = squares.by_ref().take(10).map(Result::unwrap).collect();
/// squares.println(format!("the first ten: {first:?}")); // above the bar, not through it
/// assert_eq!(squares.position(), 10);
/// ```
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct Progress<I> {
    inner: I,
    handle: ProgressHandle,
    /// Whether the input's length is known (a bar) or not (a spinner).
    counted: bool,
}

/// A handle on a running [`Progress`] bar, from [`Progress::handle`]: prints above the bar
/// from any thread, including the tasks of the map it counts. Cloning it is cheap; it is
/// `Send` and `Sync`.
///
/// # Examples
///
/// ```
/// let pool = parallel::ThreadPool::new();
/// let files = ["a.pdf", "b.pdf", "c.pdf"];
/// let downloads = pool.map(|name: &str| name.len(), files).progress().label("downloads");
/// let bar = downloads.handle();
/// for (name, size) in files.iter().zip(downloads) {
///     bar.println(format!("{name}: {} bytes", size.unwrap()));
/// }
/// ```
#[derive(Clone)]
pub struct ProgressHandle {
    bar: ProgressBar,
    lines: Lines,
}

/// Where [`ProgressHandle::println`] writes: stdout, or in unit tests the in-memory terminal
/// the bar is drawn on.
#[derive(Clone)]
enum Lines {
    Stdout,
    #[cfg(test)]
    Term(indicatif::InMemoryTerm),
}

impl ProgressHandle {
    /// Prints `line` on stdout above the bar: the bar is cleared, the line printed, the bar
    /// drawn again below it, so no stale copy of the bar is left. When the bar is hidden
    /// (stderr is not a terminal) this is `println!`.
    ///
    /// # Panics
    ///
    /// As `println!` does, if stdout cannot be written.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::ThreadPool;
    ///
    /// let pool = ThreadPool::new();
    /// let squares = pool.map(|x: u64| x * x, 1..=3).progress();
    /// let bar = squares.handle();
    /// for square in squares {
    ///     bar.println(format!("got {}", square.unwrap()));
    /// }
    /// ```
    pub fn println(&self, line: impl AsRef<str>) {
        let line = line.as_ref();
        self.suspend(|| match &self.lines {
            Lines::Stdout => println!("{line}"),
            #[cfg(test)]
            Lines::Term(term) => {
                indicatif::TermLike::write_line(term, line).expect("an in-memory terminal")
            }
        });
    }

    /// Runs `f` with the bar cleared from the terminal, then draws the bar again: what `f`
    /// prints (with `println!`, `eprintln!`, a logger) leaves no stale copy of the bar. Other
    /// threads drawing or printing through the bar wait until `f` returns, so keep it short.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// let squares = pool.map(|x: u64| x * x, 1..=3).progress();
    /// let bar = squares.handle();
    /// // A task prints too: it gets a clone of the handle.
    /// let printer = bar.clone();
    /// let task = pool.submit(move || printer.suspend(|| eprintln!("a note from a task")));
    /// let total: u64 = squares.map(Result::unwrap).sum();
    /// let shown = bar.suspend(|| format!("total {total}"));
    /// assert_eq!(shown, "total 14");
    /// task.result().unwrap();
    /// ```
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }
}

impl<I: Iterator> Progress<I> {
    /// Wraps `inner`, drawing on stderr if it is a terminal.
    pub(crate) fn new(inner: I) -> Self {
        Self::with_target(inner, ProgressDrawTarget::stderr(), Lines::Stdout)
    }

    fn with_target(inner: I, target: ProgressDrawTarget, lines: Lines) -> Self {
        let (counted, length) = match inner.size_hint() {
            (low, Some(high)) if low == high => (true, Some(high as u64)),
            _ => (false, None),
        };
        let bar = ProgressBar::with_draw_target(length, target).with_style(style(counted, false));
        bar.enable_steady_tick(Duration::from_millis(100));
        Self {
            inner,
            handle: ProgressHandle { bar, lines },
            counted,
        }
    }

    /// Names the bar: `label` is drawn before it, so that a program running several maps
    /// (or one after another) shows which one is counting.
    ///
    /// # Examples
    ///
    /// ```
    /// use parallel::{as_completed, ThreadPool};
    ///
    /// let pool = ThreadPool::new();
    /// let sizes: Vec<usize> = pool
    ///     .map(|name: &str| name.len(), ["a.pdf", "b.pdf"])
    ///     .progress()
    ///     .label("downloads")
    ///     .collect::<Result<_, _>>()
    ///     .unwrap();
    /// assert_eq!(sizes, [5, 5]);
    ///
    /// // The same on `as_completed`, on a scope's maps and on `pmap!(..; progress)`.
    /// let futures: Vec<_> = (0..4).map(|i| pool.submit(move || i)).collect();
    /// assert_eq!(as_completed(&futures).progress().label("checks").count(), 4);
    /// let words = ["one", "two"];
    /// let letters: usize = parallel::scope(|s| {
    ///     s.map(|w: &&str| w.len(), &words).progress().label("words").map(Result::unwrap).sum()
    /// });
    /// assert_eq!(letters, 6);
    /// let squares = parallel::pmap!(|x: u64| x * x, 0..10; progress).label("squares");
    /// assert_eq!(squares.count(), 10);
    /// ```
    pub fn label(self, label: impl Into<Cow<'static, str>>) -> Self {
        let bar = &self.handle.bar;
        bar.set_style(style(self.counted, true));
        bar.set_prefix(label);
        self
    }

    /// A handle that prints above this bar from anywhere, while the bar is borrowed by a
    /// `for` loop or from the tasks themselves (see [`ProgressHandle`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// let lengths = pool.map(|word: &str| word.len(), ["one", "three"]).progress();
    /// let bar = lengths.handle();
    /// for length in lengths {
    ///     bar.println(format!("a word of {} letters", length.unwrap()));
    /// }
    /// ```
    pub fn handle(&self) -> ProgressHandle {
        self.handle.clone()
    }

    /// Prints `line` on stdout above the bar, leaving no stale copy of the bar (see
    /// [`ProgressHandle::println`]).
    ///
    /// # Panics
    ///
    /// As `println!` does, if stdout cannot be written.
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// let mut squares = pool.map(|x: u64| x * x, 0..50).progress();
    /// while let Some(square) = squares.next() {
    ///     if square.unwrap() % 7 == 0 {
    ///         squares.println("a multiple of seven");
    ///     }
    /// }
    /// ```
    pub fn println(&self, line: impl AsRef<str>) {
        self.handle.println(line);
    }

    /// Runs `f` with the bar cleared from the terminal, then draws it again (see
    /// [`ProgressHandle::suspend`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let pool = parallel::ThreadPool::new();
    /// let mut squares = pool.map(|x: u64| x * x, 0..10).progress();
    /// let first = squares.next().unwrap().unwrap();
    /// squares.suspend(|| println!("the first square is {first}"));
    /// assert_eq!(squares.count(), 9);
    /// ```
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.handle.suspend(f)
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
        self.handle.bar.position()
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
        self.handle.bar.is_hidden()
    }
}

/// A bar when the length is known, a spinner when it is not; the label, if any, in front.
fn style(counted: bool, labelled: bool) -> ProgressStyle {
    let counter = if counted {
        "{wide_bar} {pos}/{len} items, {elapsed} ({eta} left)"
    } else {
        "{spinner} {pos} items, {elapsed}"
    };
    let template = if labelled {
        format!("{{prefix:.bold}} {counter}")
    } else {
        counter.to_owned()
    };
    ProgressStyle::with_template(&template).expect("the templates above are valid")
}

impl<I: Iterator> Iterator for Progress<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        let item = self.inner.next();
        match item {
            Some(_) => self.handle.bar.inc(1),
            None => self.handle.bar.finish(),
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
        let bar = &self.handle.bar;
        if !bar.is_finished() {
            bar.abandon();
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
    use indicatif::{InMemoryTerm, TermLike};

    fn hidden<I: Iterator>(inner: I) -> Progress<I> {
        Progress::with_target(inner, ProgressDrawTarget::hidden(), Lines::Stdout)
    }

    /// `inner` with its bar drawn on an in-memory terminal of 6 rows and 60 columns, where
    /// `println` prints too (as stdout and stderr share one terminal).
    fn on_terminal<I: Iterator>(inner: I) -> (Progress<I>, InMemoryTerm) {
        let term = InMemoryTerm::new(6, 60);
        let target = ProgressDrawTarget::term_like(Box::new(term.clone()));
        (
            Progress::with_target(inner, target, Lines::Term(term.clone())),
            term,
        )
    }

    fn rows_of(term: &InMemoryTerm) -> Vec<String> {
        term.contents().lines().map(str::to_owned).collect()
    }

    #[test]
    fn println_prints_above_the_bar_and_leaves_no_copy_of_it() {
        let pool = ThreadPool::builder().workers(2).build().unwrap();
        let (mut bar, term) = on_terminal(pool.map(|x: u32| x, 0..10));
        for line in ["first", "second"] {
            bar.next();
            bar.handle.bar.force_draw(); // the bar is on screen when the line is printed
            bar.println(line);
        }
        assert_eq!(bar.by_ref().count(), 8);
        let rows = rows_of(&term);
        assert_eq!(rows.len(), 3, "two lines and one bar: {rows:#?}");
        assert_eq!(rows[..2], ["first", "second"]);
        assert!(rows[2].ends_with(" 10/10 items, 0s (0s left)"), "{rows:#?}");
    }

    #[test]
    fn a_line_printed_past_the_bar_leaves_a_stale_copy_which_suspend_avoids() {
        let pool = ThreadPool::builder().workers(1).build().unwrap();
        // What a bare `println!` does: the line goes past the bar, which is drawn again
        // below it, and its old copy stays.
        let (mut bar, term) = on_terminal(pool.map(|x: u32| x, 0..4));
        bar.next();
        bar.handle.bar.force_draw();
        term.write_line("printed past the bar").unwrap();
        assert_eq!(bar.by_ref().count(), 3);
        let rows = rows_of(&term);
        assert_eq!(rows.len(), 3, "{rows:#?}");
        assert!(rows[0].contains(" 1/4 items"), "a stale bar: {rows:#?}");
        assert_eq!(rows[1], "printed past the bar");
        assert!(rows[2].contains(" 4/4 items"), "{rows:#?}");

        // The same through `suspend`, from another thread, with a handle.
        let (mut bar, term) = on_terminal(pool.map(|x: u32| x, 0..4));
        bar.next();
        bar.handle.bar.force_draw();
        let handle = bar.handle();
        let writer = term.clone();
        std::thread::spawn(move || handle.suspend(|| writer.write_line("suspended").unwrap()))
            .join()
            .unwrap();
        assert_eq!(bar.by_ref().count(), 3);
        let rows = rows_of(&term);
        assert_eq!(rows.len(), 2, "{rows:#?}");
        assert_eq!(rows[0], "suspended");
        assert!(rows[1].contains(" 4/4 items"), "{rows:#?}");
    }

    #[test]
    fn a_label_is_drawn_before_the_bar_and_the_spinner() {
        let pool = ThreadPool::builder().workers(1).build().unwrap();
        let (bar, term) = on_terminal(pool.map(|x: u32| x, 0..3));
        assert_eq!(bar.label("downloads").count(), 3);
        let rows = rows_of(&term);
        assert_eq!(rows.len(), 1, "{rows:#?}");
        assert!(rows[0].starts_with("downloads █"), "{rows:#?}");
        assert!(rows[0].contains(" 3/3 items"), "{rows:#?}");

        let (bar, term) = on_terminal(pool.map(|x: u64| x, 0..));
        let mut bar = bar.label("endless");
        assert_eq!(bar.by_ref().take(5).count(), 5);
        bar.handle.bar.force_draw();
        let rows = rows_of(&term);
        assert!(rows[0].starts_with("endless "), "{rows:#?}");
        assert!(rows[0].contains(" 5 items"), "{rows:#?}");
    }

    #[test]
    fn println_on_a_hidden_bar_still_prints() {
        let pool = ThreadPool::builder().workers(1).build().unwrap();
        let bar = hidden(pool.map(|x: u32| x, 0..3));
        assert!(bar.is_hidden());
        // Hidden, the bar still runs `suspend`'s closure (and so `println`'s).
        assert_eq!(bar.suspend(|| 7), 7);
        let term = InMemoryTerm::new(4, 40);
        let lines = ProgressHandle {
            bar: bar.handle.bar.clone(),
            lines: Lines::Term(term.clone()),
        };
        lines.println("shown");
        assert_eq!(term.contents(), "shown");
        assert_eq!(bar.count(), 3);
    }

    #[test]
    fn counts_items_not_batches_and_finishes_at_the_end() {
        let pool = ThreadPool::builder().workers(2).build().unwrap();
        let mut bar = hidden(pool.map_with(|x: u32| x, 0..1000, MapOptions::new().chunksize(100)));
        assert_eq!(
            bar.handle.bar.length(),
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
        assert!(bar.handle.bar.is_finished());
    }

    #[test]
    fn failed_items_count_and_an_early_drop_leaves_the_bar_where_it_was() {
        let pool = ThreadPool::builder().workers(1).build().unwrap();
        let map = pool.map(|x: u32| if x % 2 == 0 { panic!("even") } else { x }, 0..10);
        let mut bar = hidden(map);
        let failed = bar.by_ref().take(4).filter(Result::is_err).count();
        assert_eq!((failed, bar.position()), (2, 4));
        let handle = bar.handle.bar.clone();
        drop(bar);
        assert!(handle.is_finished(), "abandoned, not left running");
        assert_eq!(handle.position(), 4);
    }

    #[test]
    fn an_endless_input_gets_a_spinner() {
        let pool = ThreadPool::builder().workers(1).build().unwrap();
        let mut bar = hidden(pool.map(|x: u64| x, 0..));
        assert_eq!(bar.handle.bar.length(), None);
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
