//! A `#[parallel]` function is documented as the function it is: rustdoc shows `fn square(x:
//! u64) -> Future<u64>` (no constant, no lowercase struct), and its doctest runs once. Checked
//! on a crate of its own (`tests/rustdoc-fixture`), documented and doc-tested by cargo.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rustdoc-fixture")
}

/// A target directory of the fixture's own, inside this project's (the outer cargo holds the
/// lock on its own while tests run).
fn target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/rustdoc-fixture")
}

/// Runs cargo on the fixture, with the project's lock file, so it builds the versions the
/// project was tested with (and finds them already downloaded).
fn cargo(args: &[&str]) -> std::process::Output {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock");
    std::fs::copy(lock, fixture().join("Cargo.lock")).expect("the lock file copies");
    let output = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(fixture())
        .env("CARGO_TARGET_DIR", target())
        .env_remove("RUSTFLAGS")
        .env_remove("RUSTDOCFLAGS")
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
#[cfg_attr(miri, ignore)]
#[cfg_attr(
    windows,
    ignore = "runs cargo and rustdoc, programs of the host; what rustdoc shows is the same for every target"
)]
fn a_parallel_function_is_documented_as_a_function_and_its_doctest_runs_once() {
    cargo(&["doc", "--no-deps"]);
    let docs = target().join("doc/rustdoc_fixture");
    let page = std::fs::read_to_string(docs.join("fn.square.html")).expect("a function page");
    assert!(
        page.contains("Squares a number."),
        "the user's docs are there"
    );
    assert!(page.contains("Future"), "the signature returns a future");
    for absent in ["constant.square.html", "struct.square.html"] {
        assert!(!docs.join(absent).exists(), "{absent} should not exist");
    }
    let tests = cargo(&["test", "--doc"]);
    let out = String::from_utf8_lossy(&tests.stdout);
    assert!(out.contains("1 passed"), "exactly one doctest ran:\n{out}");
    assert_eq!(out.matches("src/lib.rs - square").count(), 1, "{out}");
}
