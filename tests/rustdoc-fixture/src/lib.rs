//! A crate of one `#[parallel]` function, whose documentation `tests/rustdoc.rs` reads.

use parallel::parallel;

/// Squares a number.
///
/// ```
/// assert_eq!(rustdoc_fixture::square(3).result(), Ok(9));
/// ```
#[parallel]
pub fn square(x: u64) -> u64 {
    x * x
}
