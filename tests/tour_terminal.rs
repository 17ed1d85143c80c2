//! The tour read as a user reads it: in a real terminal (a detached `tmux` of a fixed size),
//! where stdout and stderr meet, progress bars are drawn and stray panic reports would show.
//! Its sections must come in order, with no raw panic report and no stale progress bar, and
//! each failure it shows must be explained.
//!
//! Linux only (CI runs the suite under Wine too); `.ci/test-deps` installs `tmux`.

#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The tour's headings, in the order it prints them.
const HEADINGS: [&str; 17] = [
    "== #[parallel]: calling a function returns a future ==",
    "== pmap!: a parallel map ==",
    "== Borrowing: scopes ==",
    "== processes: the same calls, in other processes ==",
    "== a worker crash fails one task only ==",
    "== stopping a running task; retries ==",
    "== timeouts: of a wait, of a task ==",
    "== the runtime: a pool, submit and result ==",
    "== cancel ==",
    "== done-callbacks ==",
    "== map ==",
    "== as_completed ==",
    "== wait ==",
    "== a task waiting on its own pool ==",
    "== .await ==",
    "== progress bars ==",
    "== shutdown ==",
];

/// Each failure the tour shows, and the words that explain it.
const EXPLAINED: [(&str, &str); 8] = [
    (
        "an item that panics: [0, 1, <the task panicked at",
        "(nothing was printed when it panicked: the message and place are in the error)",
    ),
    (
        "ms with timeout = \"200ms\": [0, <the map's timeout passed",
        "(3 items, 2 results: a map ends at its timeout, as Python's does;",
    ),
    (
        "fragile(3): the worker process running the task exited with code 3",
        "(fragile(3) calls exit(3), ending its worker process: only its own task fails",
    ),
    (
        "fragile(5): the task panicked in worker process",
        "(fragile(5) panics: its task fails, its worker lives on)",
    ),
    (
        "the killed task: the task was cancelled",
        "(kill() stops it, so its future reads cancelled)",
    ),
    (
        "after 100 ms: gave up waiting",
        "the task has not finished yet and goes on (its future can be waited on again)",
    ),
    (
        "a task given 50 ms that needs 300 ms: the task ran longer than its timeout",
        "(a thread cannot be stopped: at 50 ms the future fails, the body runs on",
    ),
    (
        "the queued task: the task was cancelled",
        "after shutdown(wait = false, cancel_futures = true), the queued task",
    ),
];

/// How long the tour may take, built and run, before the test gives up on it: the tour takes
/// a few seconds; this only catches a hang.
const PATIENCE: Duration = Duration::from_secs(300);

#[test]
fn the_tour_in_a_terminal_reads_in_order_and_explains_its_failures() {
    let tour = build_tour();
    let screen = Tmux::new().run(&tour);
    let lines: Vec<&str> = screen.lines().map(str::trim_end).collect();
    let shown = || screen.clone();

    // It ends, and well.
    assert!(
        lines.contains(&"[the tour exited with 0]"),
        "the tour failed:\n{}",
        shown()
    );

    // The first thing on the screen is the first heading: no bar, no report before it.
    let first = lines.iter().find(|line| !line.is_empty());
    assert_eq!(
        first,
        Some(&HEADINGS[0]),
        "before the first heading:\n{}",
        shown()
    );
    let headings: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|line| line.starts_with("== "))
        .collect();
    assert_eq!(headings, HEADINGS, "the sections' order:\n{}", shown());

    // No raw panic report, from a thread or a worker process.
    for raw in ["' panicked at", "stack backtrace:", "note: run with"] {
        assert!(
            !screen.contains(raw),
            "a raw panic report ({raw:?}):\n{}",
            shown()
        );
    }

    for (failure, explanation) in EXPLAINED {
        assert!(
            screen.contains(failure),
            "missing {failure:?}:\n{}",
            shown()
        );
        assert!(
            screen.contains(explanation),
            "{failure:?} is not explained by {explanation:?}:\n{}",
            shown()
        );
    }

    // The progress section: each bar is on the screen once (a line printed while it ran went
    // above it, leaving no stale copy), under its label, finished, inside its section.
    let section = lines
        .iter()
        .position(|line| *line == "== progress bars ==")
        .expect("the progress section");
    let bars: Vec<(usize, &str)> = lines
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, line)| line.contains('█'))
        .collect();
    assert_eq!(bars.len(), 2, "two bars, once each:\n{}", shown());
    let [(squares, squares_bar), (completed, completed_bar)] = bars[..] else {
        unreachable!("two bars")
    };
    assert!(squares > section && completed > squares, "{}", shown());
    assert!(
        squares_bar.starts_with("squares ") && squares_bar.contains(" 400/400 items"),
        "{squares_bar:?}"
    );
    assert!(
        completed_bar.starts_with("as_completed ") && completed_bar.contains(" 50/50 items"),
        "{completed_bar:?}"
    );
    assert_eq!(
        lines[squares - 1],
        "printed above the running bar, which shows 100 of 400",
        "a line printed while the bar ran sits above it:\n{}",
        shown()
    );
    assert_eq!(lines[completed - 1], "half of the futures finished");
}

/// Builds the tour's binary with the cargo and target directory of this test (and its
/// profile and features), and returns its path.
fn build_tour() -> PathBuf {
    // This test is target/<profile>/deps/tour_terminal-<hash>.
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let target_dir = profile_dir.parent().expect("target/<profile>");
    let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") | None => "dev",
        Some(name) => name,
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let mut build = Command::new(cargo);
    build
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--example", "tour", "--profile", profile])
        .env("CARGO_TARGET_DIR", target_dir);
    // The features this test was built with, so that the build reuses what is built.
    if cfg!(feature = "mpi") {
        build.args(["--features", "mpi"]);
    }
    let status = build.status().expect("running cargo");
    assert!(status.success(), "cargo build --example tour: {status}");
    profile_dir.join("examples").join("tour")
}

/// A tmux server of our own (its own socket, no configuration), stopped when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn new() -> Self {
        let found = Command::new("tmux").arg("-V").output();
        assert!(
            found.is_ok_and(|out| out.status.success()),
            "this test needs tmux (`.ci/test-deps` installs it: apt-get install tmux)"
        );
        Self {
            socket: format!("parallel-tour-{}", std::process::id()),
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        // Inside a user's own tmux, `TMUX` names their server: ours is apart.
        command
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .env_remove("TMUX");
        command
    }

    /// Runs `program` in a detached 200×80 terminal, waits until it has ended, and returns
    /// the terminal's whole history, a line per row (the tour's lines are narrower, and its
    /// 130 lines fit in tmux's default history of 2000). Rows are not joined (`-J`): a bar
    /// fills its row, which tmux would join with the next.
    fn run(&self, program: &Path) -> String {
        let script = format!(
            "'{}'; echo \"[the tour exited with $?]\"; tmux -L {} wait-for -S tour-done; \
             tmux -L {} wait-for never",
            program.display(),
            self.socket,
            self.socket,
        );
        let started = self
            .command()
            .args(["new-session", "-d", "-s", "tour", "-x", "200", "-y", "80"])
            .arg(script)
            .status()
            .expect("starting tmux");
        assert!(started.success(), "tmux new-session: {started}");

        // `wait-for` returns when the tour has ended (at once if it already has).
        let waiter = self
            .command()
            .args(["wait-for", "tour-done"])
            .stdin(Stdio::null())
            .spawn()
            .expect("tmux wait-for");
        wait_within(waiter, PATIENCE, || self.capture());
        self.capture()
    }

    fn capture(&self) -> String {
        let out = self
            .command()
            .args(["capture-pane", "-p", "-S", "-", "-t", "tour"])
            .output()
            .expect("tmux capture-pane");
        assert!(out.status.success(), "tmux capture-pane: {}", out.status);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").status();
    }
}

/// Waits for `child` to exit, failing with what `screen` shows if it takes over `patience`.
fn wait_within(mut child: Child, patience: Duration, screen: impl Fn() -> String) {
    let deadline = Instant::now() + patience;
    while child.try_wait().expect("waiting for tmux").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the tour did not end within {patience:?}:\n{}", screen());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
