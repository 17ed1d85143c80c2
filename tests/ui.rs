//! Compile-time errors of `#[parallel]` and `pmap!`: each file in `tests/ui/` is one misuse
//! and must fail with the message in its `.stderr`; `tests/ui/pass/` must compile and run.
//! Regenerate with `TRYBUILD=overwrite cargo test --test ui`, and read the diff as code.

#[test]
#[cfg_attr(miri, ignore)]
#[cfg_attr(
    windows,
    ignore = "trybuild runs cargo, a program of the host; the errors are the same for every target"
)]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
