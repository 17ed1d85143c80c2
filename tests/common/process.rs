//! Processes as the process tests watch them, on Unix and on Windows alike: a `Process` is a
//! process id with the process's start time, so that a later process that reuses the id is
//! never mistaken for it (Windows reuses ids at once), and the exit a worker gets from each
//! kind of death.
//!
//! "Gone" means what the pool promises on each system: on Unix the process was reaped (a
//! zombie still counts, as our child not yet waited for); on Windows, which has no zombies, it
//! has ended.

use std::thread;
use std::time::{Duration, Instant};

use parallel::WorkerExit;

use super::PATIENCE;

/// A process, told apart from a later one that reuses its id by its start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Process {
    pub pid: u32,
    pub start: u64,
}

impl Process {
    /// The process calling it.
    pub fn current() -> Self {
        let pid = std::process::id();
        Self {
            pid,
            start: sys::start_of(pid).expect("this process has a start time"),
        }
    }

    /// Process `pid`, which must be running (its id cannot name another process yet): a
    /// process a test has just heard from, which has not ended since.
    pub fn running(pid: u32) -> Self {
        Self {
            pid,
            start: sys::start_of(pid).unwrap_or(u64::MAX),
        }
    }

    /// Whether it is gone: reaped on Unix, ended on Windows (see the module's docs).
    pub fn is_gone(self) -> bool {
        sys::start_of(self.pid) != Some(self.start) || sys::is_gone(self.pid)
    }

    /// Whether it has ended: gone, or a zombie on Unix (a dead process whose parent is gone
    /// is reaped by init, not by us).
    pub fn has_ended(self) -> bool {
        sys::start_of(self.pid) != Some(self.start) || sys::has_ended(self.pid)
    }

    /// Waits until it is gone, failing after `PATIENCE`.
    pub fn await_gone(self) {
        let start = Instant::now();
        while !self.is_gone() {
            assert!(start.elapsed() < PATIENCE, "{self:?} never went away");
            thread::sleep(Duration::from_millis(1));
        }
    }

    /// Kills it from outside, as the OOM killer or a user's tool does (`SIGKILL`;
    /// `TerminateProcess` with exit code 1, as std's `Child::kill` and most tools do). Its
    /// worker's task then fails with `killed_from_outside()`.
    pub fn kill(self) {
        assert!(!self.is_gone(), "{self:?} is gone already");
        sys::kill(self.pid);
    }

    /// Its child processes that are still running.
    pub fn children(self) -> Vec<Process> {
        sys::children(self.pid)
            .into_iter()
            .filter_map(|pid| {
                let start = sys::start_of(pid)?;
                // A child started after its parent: an older process would be an orphan that
                // merely names a dead process's reused id as its parent (Windows).
                (start >= self.start).then_some(Process { pid, start })
            })
            .collect()
    }

    pub fn encode(self) -> String {
        format!("{}:{}", self.pid, self.start)
    }

    pub fn decode(text: &str) -> Self {
        let (pid, start) = text.split_once(':').unwrap();
        Self {
            pid: pid.parse().unwrap(),
            start: start.parse().unwrap(),
        }
    }
}

/// This process, as text that names no other process that had or will have its id (its id
/// and start time): what a task returns to say where it ran.
pub fn here() -> String {
    Process::current().encode()
}

/// How a worker that `Process::kill` killed ended.
pub fn killed_from_outside() -> WorkerExit {
    if cfg!(windows) {
        WorkerExit::Code(1)
    } else {
        WorkerExit::Signal(9)
    }
}

/// How a worker that its pool killed ended (`kill_workers`, a timeout, `Future::kill`).
pub fn killed_by_its_pool() -> WorkerExit {
    if cfg!(windows) {
        WorkerExit::Code(0x0001_0000)
    } else {
        WorkerExit::Signal(9)
    }
}

/// How a worker that its pool asked to end (`terminate_workers`) ended: on Windows, which has
/// no such request, it is killed alike.
pub fn terminated_by_its_pool() -> WorkerExit {
    if cfg!(windows) {
        WorkerExit::Code(0x0001_0000)
    } else {
        WorkerExit::Signal(15)
    }
}

/// How a worker that called `std::process::abort` ended: `SIGABRT`; on Windows Rust's abort
/// is `__fastfail`, which ends the process with `STATUS_STACK_BUFFER_OVERRUN`.
pub fn aborted() -> WorkerExit {
    if cfg!(windows) {
        WorkerExit::Code(0xC000_0409_u32 as i32)
    } else {
        WorkerExit::Signal(6)
    }
}

/// How a worker that wrote to memory it may not touch ended: `SIGSEGV`, or
/// `STATUS_ACCESS_VIOLATION`.
pub fn segfaulted() -> WorkerExit {
    if cfg!(windows) {
        WorkerExit::Code(0xC000_0005_u32 as i32)
    } else {
        WorkerExit::Signal(11)
    }
}

/// Writes to memory that allows no access: the process dies at that instruction, of SIGSEGV
/// or an access violation.
pub fn segfault() -> ! {
    sys::segfault()
}

/// Ends this process the way `Process::kill` does, from inside.
pub fn kill_self() -> ! {
    sys::kill(std::process::id());
    thread::sleep(PATIENCE);
    unreachable!("a kill cannot be caught")
}

#[cfg(unix)]
mod sys {
    use std::fs;

    /// The fields of `/proc/<pid>/stat` after the command name: state, ppid, ….
    fn stat_fields(pid: u32) -> Option<Vec<String>> {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let rest = &stat[stat.rfind(')')? + 2..];
        Some(rest.split_whitespace().map(str::to_owned).collect())
    }

    /// When `pid` started (in clock ticks since boot); `None` if there is no such process.
    pub fn start_of(pid: u32) -> Option<u64> {
        stat_fields(pid)?.get(19)?.parse().ok()
    }

    fn state(pid: u32) -> Option<char> {
        stat_fields(pid)?[0].chars().next()
    }

    pub fn is_gone(pid: u32) -> bool {
        state(pid).is_none()
    }

    pub fn has_ended(pid: u32) -> bool {
        matches!(state(pid), None | Some('Z' | 'X'))
    }

    pub fn children(parent: u32) -> Vec<u32> {
        let mut children = Vec::new();
        for entry in fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            if stat_fields(pid).is_some_and(|fields| fields[1] == parent.to_string()) {
                children.push(pid);
            }
        }
        children
    }

    pub fn kill(pid: u32) {
        // SAFETY: `kill` has no memory-safety preconditions; the callers name a process they
        // know to be running (their own worker, or this process).
        assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGKILL) }, 0);
    }

    pub fn segfault() -> ! {
        // SAFETY: maps one fresh anonymous page, used by nothing else.
        let page = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(page, libc::MAP_FAILED);
        // SAFETY: none, on purpose: the page allows no access, so this write faults and the
        // process dies of SIGSEGV at this instruction, before anything could observe it.
        unsafe { page.cast::<u8>().write_volatile(1) };
        unreachable!("a write to a page without access faulted")
    }
}

#[cfg(windows)]
mod sys {
    use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};

    use windows_sys::Win32::Foundation::{FILETIME, INVALID_HANDLE_VALUE, WAIT_TIMEOUT};
    use windows_sys::Win32::System::Diagnostics::ToolHelp::{
        CreateToolhelp32Snapshot, Process32FirstW, Process32NextW, PROCESSENTRY32W,
        TH32CS_SNAPPROCESS,
    };
    use windows_sys::Win32::System::Threading::{
        GetProcessTimes, OpenProcess, TerminateProcess, WaitForSingleObject,
        PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SYNCHRONIZE, PROCESS_TERMINATE,
    };

    /// A handle to process `pid`; `None` if there is none (any more).
    fn open(pid: u32) -> Option<OwnedHandle> {
        let access = PROCESS_SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_TERMINATE;
        // SAFETY: `OpenProcess` has no memory-safety preconditions.
        let handle = unsafe { OpenProcess(access, 0, pid) };
        // SAFETY: a handle the call just made for us alone.
        (!handle.is_null()).then(|| unsafe { OwnedHandle::from_raw_handle(handle) })
    }

    /// When `pid` was created (in 100 ns units since 1601); `None` if there is no such
    /// process.
    pub fn start_of(pid: u32) -> Option<u64> {
        let process = open(pid)?;
        let [mut created, mut exited, mut kernel, mut user] = [FILETIME::default(); 4];
        // SAFETY: a valid process handle and four `FILETIME`s to write.
        let got = unsafe {
            GetProcessTimes(
                process.as_raw_handle(),
                &mut created,
                &mut exited,
                &mut kernel,
                &mut user,
            )
        };
        (got != 0)
            .then(|| u64::from(created.dwHighDateTime) << 32 | u64::from(created.dwLowDateTime))
    }

    pub fn is_gone(pid: u32) -> bool {
        has_ended(pid)
    }

    pub fn has_ended(pid: u32) -> bool {
        // SAFETY: a valid process handle; a zero timeout only asks whether it has ended.
        open(pid).is_none_or(|process| unsafe {
            WaitForSingleObject(process.as_raw_handle(), 0) != WAIT_TIMEOUT
        })
    }

    pub fn children(parent: u32) -> Vec<u32> {
        // SAFETY: no memory-safety preconditions; the handle is checked, then owned.
        let snapshot = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0) };
        assert_ne!(snapshot, INVALID_HANDLE_VALUE, "a process snapshot");
        // SAFETY: a handle the call just made for us alone.
        let snapshot = unsafe { OwnedHandle::from_raw_handle(snapshot) };
        let mut entry = PROCESSENTRY32W {
            dwSize: size_of::<PROCESSENTRY32W>() as u32,
            ..PROCESSENTRY32W::default()
        };
        let mut children = Vec::new();
        // SAFETY: a valid snapshot and an entry whose `dwSize` is its size; the call writes it.
        let mut found = unsafe { Process32FirstW(snapshot.as_raw_handle(), &mut entry) };
        while found != 0 {
            if entry.th32ParentProcessID == parent && !has_ended(entry.th32ProcessID) {
                children.push(entry.th32ProcessID);
            }
            // SAFETY: as above.
            found = unsafe { Process32NextW(snapshot.as_raw_handle(), &mut entry) };
        }
        children
    }

    pub fn kill(pid: u32) {
        let process = open(pid).expect("the process to kill is running");
        // SAFETY: a valid process handle with terminate access.
        assert_ne!(unsafe { TerminateProcess(process.as_raw_handle(), 1) }, 0);
    }

    pub fn segfault() -> ! {
        let null = std::hint::black_box(std::ptr::null_mut::<u8>());
        // SAFETY: none, on purpose: address 0 is never mapped on Windows, so the write raises
        // an access violation that ends the process at this instruction. `black_box` hides
        // the address from the compiler, which therefore emits the write.
        unsafe { null.write_volatile(1) };
        unreachable!("a write to address 0 faulted")
    }
}
