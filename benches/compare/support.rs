//! Measuring, printing, the Python runner and the summary table, shared by every figure.

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Options

/// What to run, from the words after `--`.
pub struct Options {
    pub quick: bool,
    pub python: bool,
    /// Figure ids (`t1`, `a2`, `p4`) or groups (`threads`, `attribute`, `processes`); empty:
    /// everything.
    only: Vec<String>,
}

impl Options {
    pub fn parse() -> Self {
        // `cargo bench` passes `--bench`; other words starting with `-` are ignored.
        let args: Vec<String> = std::env::args().skip(1).collect();
        Self {
            quick: args.iter().any(|arg| arg == "--quick"),
            python: !args.iter().any(|arg| arg == "--no-python"),
            only: args
                .iter()
                .filter(|arg| !arg.starts_with('-'))
                .cloned()
                .collect(),
        }
    }

    /// Whether figure `id` (a group letter and a number, e.g. `p3`) runs.
    pub fn runs(&self, id: &str) -> bool {
        let group = match &id[..1] {
            "t" => "threads",
            "s" => "scopes",
            "a" => "attribute",
            "m" => "mpi",
            "r" => "memory",
            _ => "processes",
        };
        self.only.is_empty() || self.only.iter().any(|word| word == id || word == group)
    }

    /// Whether any figure of `group` runs.
    pub fn runs_group(&self, group: &str, ids: &[&str]) -> bool {
        self.only.is_empty()
            || self.only.iter().any(|word| word == group)
            || ids.iter().any(|id| self.runs(id))
    }

    /// `full`, or 2 with `--quick`.
    pub fn rounds(&self, full: usize) -> usize {
        if self.quick {
            2
        } else {
            full
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Measuring

/// One contender: runs once and returns how long its measured part took.
pub struct Contender<'a> {
    pub name: &'static str,
    run: Box<dyn FnMut() -> Duration + 'a>,
}

pub fn contender<'a>(name: &'static str, run: impl FnMut() -> Duration + 'a) -> Contender<'a> {
    Contender {
        name,
        run: Box::new(run),
    }
}

/// Median time of each contender over `rounds` interleaved rounds of a warm-up run and
/// `runs` timed runs each. Contenders take turns round by round, so load from elsewhere on
/// the machine spreads over all of them, and every other round goes in reverse order, so
/// that none always follows the same neighbour. A 5 ms pause before each turn lets the
/// previous contender's idle threads go to sleep.
pub fn measure(contenders: &mut [Contender<'_>], rounds: usize, runs: usize) -> Vec<Duration> {
    measure_all(contenders, rounds, runs)
        .into_iter()
        .map(median)
        .collect()
}

/// As `measure`, for two contenders that run the same work two ways: the median of each,
/// and the median over rounds of the first's median over the second's in that round. Both
/// run back to back in every round, so a slow spell of the machine (or of the process's
/// memory) touches both sides of each round's ratio alike.
pub fn measure_pair(
    contenders: &mut [Contender<'_>],
    rounds: usize,
    runs: usize,
) -> (Vec<Duration>, f64) {
    assert_eq!(contenders.len(), 2, "a pair");
    let times = measure_all(contenders, rounds, runs);
    let ratios: Vec<f64> = times[0]
        .chunks(runs)
        .zip(times[1].chunks(runs))
        .map(|(a, b)| median(a.to_vec()).as_secs_f64() / median(b.to_vec()).as_secs_f64())
        .collect();
    let mut sorted = ratios;
    sorted.sort_by(f64::total_cmp);
    let ratio = sorted[sorted.len() / 2];
    (times.into_iter().map(median).collect(), ratio)
}

/// Every timed run of each contender, in order: `runs` per round.
fn measure_all(contenders: &mut [Contender<'_>], rounds: usize, runs: usize) -> Vec<Vec<Duration>> {
    let mut times = vec![Vec::with_capacity(rounds * runs); contenders.len()];
    for round in 0..rounds {
        let mut order: Vec<usize> = (0..contenders.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for index in order {
            let contender = &mut contenders[index];
            thread::sleep(Duration::from_millis(5));
            (contender.run)();
            for _ in 0..runs {
                times[index].push((contender.run)());
            }
        }
    }
    times
}

pub fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Times `f`.
pub fn timed<R>(f: impl FnOnce() -> R) -> (Duration, R) {
    let start = Instant::now();
    let result = f();
    (start.elapsed(), result)
}

pub fn ms(time: Duration) -> f64 {
    time.as_secs_f64() * 1e3
}

pub fn us(time: Duration) -> f64 {
    time.as_secs_f64() * 1e6
}

// ---------------------------------------------------------------------------------------------
// Waiting for a quiet machine

/// The share of CPU time the machine spent idle over `window`, from `/proc/stat`; `None`
/// where it cannot be read.
fn idle_share(window: Duration) -> Option<f64> {
    fn sample() -> Option<(u64, u64)> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let fields: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|field| field.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal ...
        let idle = fields.get(3)? + fields.get(4).copied().unwrap_or(0);
        Some((idle, fields.iter().take(8).sum()))
    }
    let (idle0, total0) = sample()?;
    thread::sleep(window);
    let (idle1, total1) = sample()?;
    let total = total1.saturating_sub(total0);
    (total > 0).then(|| idle1.saturating_sub(idle0) as f64 / total as f64)
}

/// What all the `settle` calls of one run may wait, in all, so that a busy machine cannot
/// stretch the run much: the whole comparison stays within ten minutes.
static WAIT_BUDGET_MS: AtomicU64 = AtomicU64::new(180_000);

/// Before a figure: waits until the machine is at least 90% idle over a quarter of a
/// second, so that other work on a shared machine disturbs the figure as little as it can;
/// at most 30 s (5 s with `--quick`), and at most what is left of the run's budget. Prints
/// what it found.
pub fn settle(options: &Options, id: &str) {
    let limit = if options.quick { 5_000 } else { 30_000 };
    let patience = Duration::from_millis(WAIT_BUDGET_MS.load(Ordering::Relaxed).min(limit));
    let start = Instant::now();
    let _spend = Spend(start);
    loop {
        match idle_share(Duration::from_millis(250)) {
            None => return,
            Some(idle) if idle >= 0.9 => {
                println!(
                    "
({id}: CPUs {:.0}% idle before it started)",
                    idle * 100.0
                );
                return;
            }
            Some(idle) if start.elapsed() >= patience => {
                println!(
                    "
({id}: CPUs only {:.0}% idle after waiting {:.0} s; measured anyway)",
                    idle * 100.0,
                    patience.as_secs_f64()
                );
                return;
            }
            Some(_) => {}
        }
    }
}

/// Takes the time since its start out of the wait budget when dropped.
struct Spend(Instant);

impl Drop for Spend {
    fn drop(&mut self) {
        let spent = self.0.elapsed().as_millis() as u64;
        let _ = WAIT_BUDGET_MS.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
            Some(left.saturating_sub(spent))
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Printing one figure

pub fn heading(title: &str) {
    println!("\n### {title}\n");
}

pub fn table_head(columns: &[&str]) {
    println!("| {} |", columns.join(" | "));
    let rules: Vec<&str> = columns
        .iter()
        .enumerate()
        .map(|(i, _)| if i == 0 { "---" } else { "---:" })
        .collect();
    println!("|{}|", rules.join("|"));
}

pub fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

// ---------------------------------------------------------------------------------------------
// Python, run through a script in `benches/python/`

#[derive(Default)]
pub struct Python {
    pub version: Option<String>,
    /// `(name, value)` for each `name value [unit]` line the script printed.
    figures: Vec<(String, f64)>,
    note: Option<String>,
}

impl Python {
    /// Runs `benches/python/<script>` with `args`; `--quick` is passed on.
    pub fn run(script: &str, args: &[String], quick: bool) -> Self {
        let mut command = Command::new("python3");
        command.arg(Self::path(script));
        Self::run_command(command, script, args, quick)
    }

    /// The path of `benches/python/<script>`.
    pub fn path(script: &str) -> String {
        // The manifest is `benches/Cargo.toml` (package `parallel-benches`).
        format!("{}/python/{script}", env!("CARGO_MANIFEST_DIR"))
    }

    /// Runs `command` (which runs `script`) with `args`; `--quick` is passed on.
    pub fn run_command(mut command: Command, script: &str, args: &[String], quick: bool) -> Self {
        command.args(args);
        if quick {
            command.arg("--quick");
        }
        let output = match command.output() {
            Ok(output) if output.status.success() => output,
            Ok(output) => {
                return Self::failed(format!(
                    "python3 {script} failed: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                ))
            }
            Err(error) => return Self::failed(format!("python3 not run: {error}")),
        };
        let mut python = Self::default();
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let mut words = line.split_whitespace();
            match (words.next(), words.next()) {
                (Some("python"), Some(version)) => python.version = Some(version.to_owned()),
                (Some(name), Some(value)) => {
                    if let Ok(value) = value.parse() {
                        python.figures.push((name.to_owned(), value));
                    }
                }
                _ => {}
            }
        }
        python
    }

    pub fn failed(note: String) -> Self {
        Self {
            note: Some(note),
            ..Self::default()
        }
    }

    pub fn get(&self, name: &str) -> Option<f64> {
        self.figures
            .iter()
            .find(|(figure, _)| figure == name)
            .map(|&(_, value)| value)
    }

    /// `Python 3.11.7 <what>`.
    pub fn label(&self, what: &str) -> String {
        match &self.version {
            Some(version) => format!("Python {version} {what}"),
            None => format!("Python {what}"),
        }
    }

    /// Prints why Python's figures are missing, if they are.
    pub fn explain(&self) {
        if let Some(note) = &self.note {
            println!("\n(Python skipped: {note})");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The summary: one row per workload, each peer as a ratio to us

/// The peers of the summary table, one column each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    Rayon,
    Threadpool,
    Procspawn,
    PyThreadPool,
    PyProcessPool,
    PyMpPool,
    Mpi4py,
}

const PEERS: [(Peer, &str); 7] = [
    (Peer::Rayon, "rayon"),
    (Peer::Threadpool, "threadpool"),
    (Peer::Procspawn, "procspawn"),
    (Peer::PyThreadPool, "Py ThreadPoolExecutor"),
    (Peer::PyProcessPool, "Py ProcessPoolExecutor"),
    (Peer::PyMpPool, "Py mp.Pool"),
    (Peer::Mpi4py, "mpi4py.futures"),
];

/// Whether a figure is a cost (time: lower is better) or a rate (higher is better).
#[derive(Debug, Clone, Copy)]
pub enum Sense {
    Cost,
    Rate,
}

/// One workload: our figure, each peer's in the same unit, and the target.
pub struct Row {
    pub workload: String,
    pub unit: &'static str,
    pub sense: Sense,
    pub ours: f64,
    pub peers: Vec<(Peer, f64)>,
    /// The target, said in words, with its verdict.
    pub target: String,
}

impl Row {
    pub fn new(workload: impl Into<String>, unit: &'static str, sense: Sense, ours: f64) -> Self {
        Self {
            workload: workload.into(),
            unit,
            sense,
            ours,
            peers: Vec::new(),
            target: String::new(),
        }
    }

    pub fn peer(mut self, peer: Peer, value: Option<f64>) -> Self {
        if let Some(value) = value {
            self.peers.push((peer, value));
        }
        self
    }

    pub fn target(mut self, target: String) -> Self {
        self.target = target;
        self
    }

    /// The peer's cost over ours: above 1 the peer is slower.
    fn ratio(&self, value: f64) -> f64 {
        match self.sense {
            Sense::Cost => value / self.ours,
            Sense::Rate => self.ours / value,
        }
    }
}

/// Prints the one table of ratios.
pub fn print_summary(rows: &[Row]) {
    println!("\n## Summary: each peer's cost ÷ ours, measured in this run\n");
    println!(
        "Above 1.00 the peer is slower than `parallel`; **bold** marks where we lose (below 1.00). \
         For a rate (GB/s, speedup) the cost is its inverse. `—`: the peer has no such workload.\n"
    );
    let mut columns = vec!["workload", "parallel"];
    columns.extend(PEERS.iter().map(|(_, name)| *name));
    columns.push("target");
    table_head(&columns);
    for row in rows {
        let mut cells = vec![row.workload.clone(), format_value(row.ours, row.unit)];
        for (peer, _) in PEERS {
            let cell = match row.peers.iter().find(|(p, _)| *p == peer) {
                Some(&(_, value)) => {
                    let ratio = row.ratio(value);
                    // Bold only what prints below 1.00.
                    if ratio < 0.995 {
                        format!("**{ratio:.2}**")
                    } else {
                        format!("{ratio:.2}")
                    }
                }
                None => "—".to_owned(),
            };
            cells.push(cell);
        }
        cells.push(row.target.clone());
        println!("| {} |", cells.join(" | "));
    }
}

fn format_value(value: f64, unit: &str) -> String {
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$} {unit}")
}
