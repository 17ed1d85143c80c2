//! Five 2-second "downloads" on three worker threads: about 4 s in all, not 10.
//!
//! Three run at once, then the last two: two rounds of 2 s. Python's version submits the same
//! five calls to `ThreadPoolExecutor(max_workers=3)`.

use std::thread;
use std::time::{Duration, Instant};

use parallel::{parallel, TaskError};

/// A stand-in for a download: waiting on the network is just waiting. It runs on three
/// threads of its own, named `download-0` to `download-2`.
#[parallel(threads = 3, name = "download")]
fn download(file: String) -> String {
    thread::sleep(Duration::from_secs(2));
    format!(
        "{file} downloaded on {}",
        thread::current().name().unwrap_or("?")
    )
}

/// Runs the five downloads and returns what was printed, with the time they took.
fn downloads() -> Result<(Vec<String>, Duration), TaskError> {
    let files = ["a.pdf", "b.pdf", "c.pdf", "d.pdf", "e.pdf"];
    let started = Instant::now();
    // Call everything first, then wait: the pool overlaps the sleeps.
    let futures: Vec<_> = files
        .iter()
        .map(|file| download(file.to_string()))
        .collect();
    let lines = futures
        .iter()
        .map(|future| future.result())
        .collect::<Result<_, _>>()?;
    Ok((lines, started.elapsed()))
}

#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<(), TaskError> {
    let (lines, elapsed) = downloads()?;
    for line in lines {
        println!("{line}");
    }
    println!("took {:.1} s (one by one: 10 s)", elapsed.as_secs_f64());
    Ok(())
}

#[test]
fn three_workers_overlap_the_downloads() {
    let (lines, elapsed) = downloads().unwrap();
    for (line, file) in lines
        .iter()
        .zip(["a.pdf", "b.pdf", "c.pdf", "d.pdf", "e.pdf"])
    {
        assert!(
            line.starts_with(&format!("{file} downloaded on download-")),
            "{line}"
        );
    }
    assert_eq!(lines.len(), 5);
    // Two rounds of 2 s can never be faster than 4 s; the upper bound is loose because the
    // test machine may be busy, but it is well below the 10 s of running them one by one.
    assert!(elapsed >= Duration::from_secs(4), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(9), "{elapsed:?}");
}
