//! What `pmap!(f, items..; scope = s)` expands to call: a map on a scope's pool, in place
//! over one iterable that can be read by index, through batches of items otherwise.

use std::cell::Cell;

use super::pmap::{nested_pairs, zip_flat, MapOptions};
use crate::arity::arities;
use crate::map::Map;
use crate::scope::{Indexed, Scope, ScopedMap};

/// `pmap!(|x| .., items; scope = s)`: a closure whose argument types are inferred from the
/// in-place map's bound.
pub fn indexed<'scope, 'env, S, F, T>(
    scope: &'scope Scope<'scope, 'env>,
    func: F,
    items: S,
    options: MapOptions<'_>,
) -> ScopedMap<'scope, S, F, T>
where
    S: Indexed + Send + 'scope,
    F: Fn(S::Item) -> T + Send + Sync + 'scope,
    T: Send + 'scope,
{
    scope.map_with(func, items, options.map())
}

/// A function of known type and one iterable, waiting for the dispatch between [`InPlace`]
/// (the iterable is [`Indexed`]) and [`Iterated`] (any other). The expansion calls
/// `(&dispatch(s, f, items)).pmap(options)`: method resolution tries `InPlace`, whose
/// receiver needs no auto-reference, first, and falls back to `Iterated` when its bounds do
/// not hold.
pub struct Dispatch<'scope, 'env, F, I> {
    scope: &'scope Scope<'scope, 'env>,
    parts: Cell<Option<(F, I)>>,
}

/// The scope, function and iterable of `pmap!(f, items; scope = s)`, for the dispatch.
pub fn dispatch<'scope, 'env, F, I>(
    scope: &'scope Scope<'scope, 'env>,
    func: F,
    items: I,
) -> Dispatch<'scope, 'env, F, I> {
    Dispatch {
        scope,
        parts: Cell::new(Some((func, items))),
    }
}

impl<F, I> Dispatch<'_, '_, F, I> {
    fn take(&self) -> (F, I) {
        self.parts.take().expect("a `pmap!` dispatch runs once")
    }
}

/// `pmap!` over one iterable the workers read in place.
pub trait InPlace {
    /// The map.
    type Map;
    /// Maps.
    fn pmap(&self, options: MapOptions<'_>) -> Self::Map;
}

impl<'scope, 'env, F, S, T> InPlace for Dispatch<'scope, 'env, F, S>
where
    S: Indexed + Send + 'scope,
    F: Fn(S::Item) -> T + Send + Sync + 'scope,
    T: Send + 'scope,
{
    type Map = ScopedMap<'scope, S, F, T>;

    fn pmap(&self, options: MapOptions<'_>) -> Self::Map {
        let (func, items) = self.take();
        self.scope.map_with(func, items, options.map())
    }
}

/// `pmap!` over one iterable of any other kind.
pub trait Iterated {
    /// The map.
    type Map;
    /// Maps.
    fn pmap(&self, options: MapOptions<'_>) -> Self::Map;
}

impl<'scope, 'env, F, I, T> Iterated for &Dispatch<'scope, 'env, F, I>
where
    I: IntoIterator,
    I::Item: Send + 'scope,
    F: Fn(I::Item) -> T + Send + Sync + 'scope,
    T: Send + 'scope,
{
    type Map = Map<'scope, I::IntoIter, T>;

    fn pmap(&self, options: MapOptions<'_>) -> Self::Map {
        let (func, items) = self.take();
        self.scope.map_iter_with(func, items, options.map())
    }
}

/// For each arity of two or more from the arity table: `pmap!` of several iterables in a
/// scope, zipped.
macro_rules! scoped_fns {
    (0 $names:tt (); 1 $names1:tt ($($one:tt)*); $($rest:tt)*) => { scoped_fns!($($rest)*); };
    ($($n:literal [$submit:ident $zip:ident $pmap:ident] ($($iter:ident $arg:ident),+);)*) => {$(
        /// `pmap!` with a function of this arity and as many iterables, in a scope.
        #[allow(clippy::too_many_arguments, non_snake_case)]
        pub fn $pmap<'scope, 'env, Func, $($iter,)+ R>(
            scope: &'scope Scope<'scope, 'env>,
            func: Func,
            $($arg: $iter,)+
            options: MapOptions<'_>,
        ) -> Map<'scope, impl Iterator<Item = ($($iter::Item,)+)>, R>
        where
            Func: Fn($($iter::Item),+) -> R + Send + Sync + 'scope,
            $($iter: IntoIterator, $iter::Item: Send + 'scope,)+
            R: Send + 'scope,
        {
            scope.map_iter_with(
                move |($($arg,)+)| func($($arg),+),
                zip_flat!($($arg),+),
                options.map(),
            )
        }
    )*};
}

arities!(scoped_fns);
