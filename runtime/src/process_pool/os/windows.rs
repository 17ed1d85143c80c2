//! The process pool on Windows: a worker's channel is a named pipe that only this process can
//! open (a random name, one instance, a security descriptor admitting the current user alone,
//! no remote clients), both of whose ends this process opens; a worker is a child process
//! started by `CreateProcessW` with the client end as its standard input, inside the
//! program's kill-on-close Job Object from its creation on; a signal is `TerminateProcess`
//! on a process handle; a worker watches its pool by waiting on the pool's process handle.
//! Large payloads travel in unnamed sections (`SharedMemory`), whose handle values go in the
//! frame and are taken by the receiver from the sender's process (`Stream::handed_over`).
//!
//! Reads and writes are overlapped (`FILE_FLAG_OVERLAPPED`): each waits on an event, with a
//! timeout where the caller has a deadline, and a timed-out operation is cancelled
//! (`CancelIoEx`) and waited for before the call returns, so no operation outlives the buffer
//! it was given. Wine runs all of this (`.ci/wine/`).

use std::cell::RefCell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, IoSlice};
use std::os::windows::ffi::OsStrExt;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::path::Path;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use windows_sys::Win32::Foundation::{
    DuplicateHandle, GetLastError, LocalFree, SetHandleInformation, DUPLICATE_SAME_ACCESS,
    ERROR_BROKEN_PIPE, ERROR_INSUFFICIENT_BUFFER, ERROR_INTERNAL_ERROR, ERROR_IO_PENDING,
    ERROR_OPERATION_ABORTED, FALSE, FILETIME, GENERIC_READ, GENERIC_WRITE, HANDLE,
    HANDLE_FLAG_INHERIT, INVALID_HANDLE_VALUE, TRUE, WAIT_OBJECT_0, WAIT_TIMEOUT,
};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1,
};
use windows_sys::Win32::Security::{
    GetTokenInformation, TokenUser, SECURITY_ATTRIBUTES, TOKEN_QUERY, TOKEN_USER,
};
use windows_sys::Win32::Storage::FileSystem::{
    CreateFileW, ReadFile, WriteFile, FILE_FLAG_FIRST_PIPE_INSTANCE, FILE_FLAG_OVERLAPPED,
    FILE_SHARE_READ, FILE_SHARE_WRITE, OPEN_EXISTING, PIPE_ACCESS_DUPLEX,
};
use windows_sys::Win32::System::Console::{
    GetStdHandle, SetStdHandle, STD_ERROR_HANDLE, STD_INPUT_HANDLE, STD_OUTPUT_HANDLE,
};
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, Process32FirstW, Process32NextW, PROCESSENTRY32W, TH32CS_SNAPPROCESS,
};
use windows_sys::Win32::System::JobObjects::{
    CreateJobObjectW, JobObjectExtendedLimitInformation, SetInformationJobObject,
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION,
    JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
};
use windows_sys::Win32::System::Memory::{
    CreateFileMappingW, MapViewOfFile, UnmapViewOfFile, VirtualQuery, FILE_MAP, FILE_MAP_READ,
    FILE_MAP_WRITE, MEMORY_BASIC_INFORMATION, MEMORY_MAPPED_VIEW_ADDRESS, MEM_COMMIT, PAGE_GUARD,
    PAGE_NOACCESS, PAGE_READWRITE,
};
use windows_sys::Win32::System::Pipes::{
    CreateNamedPipeW, GetNamedPipeClientProcessId, PeekNamedPipe, PIPE_READMODE_BYTE,
    PIPE_REJECT_REMOTE_CLIENTS, PIPE_TYPE_BYTE, PIPE_WAIT,
};
use windows_sys::Win32::System::Threading::{
    CreateEventW, CreateProcessW, DeleteProcThreadAttributeList, GetCurrentProcess,
    GetCurrentProcessId, GetExitCodeProcess, GetProcessTimes, InitializeProcThreadAttributeList,
    OpenProcess, OpenProcessToken, TerminateProcess, UpdateProcThreadAttribute,
    WaitForMultipleObjects, WaitForSingleObject, CREATE_UNICODE_ENVIRONMENT,
    EXTENDED_STARTUPINFO_PRESENT, INFINITE, LPPROC_THREAD_ATTRIBUTE_LIST, PROCESS_DUP_HANDLE,
    PROCESS_INFORMATION, PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SYNCHRONIZE,
    PROC_THREAD_ATTRIBUTE_HANDLE_LIST, PROC_THREAD_ATTRIBUTE_JOB_LIST, STARTF_USESTDHANDLES,
    STARTUPINFOEXW,
};
use windows_sys::Win32::System::IO::{CancelIoEx, GetOverlappedResult, OVERLAPPED};

use super::Signal;
use crate::error::{WorkerExit, KILLED_BY_POOL};

/// Where a worker finds its end of the channel as it starts: its standard input (`spawn`
/// puts it there).
pub(crate) const CHILD_CHANNEL: i32 = 0;

/// How much each direction of a pipe buffers. A task of up to 64 KiB of input is sent to a
/// busy worker (`driver/top_up.rs`), which reads it only when it has sent its current reply:
/// the pipe must hold it meanwhile, or pool and worker would each wait for the other to read.
const PIPE_BUFFER: u32 = 256 << 10;

/// Small slices of one write are copied together up to this size and written at once: a pipe
/// has no vectored write, and each write is a system call (under Wine, a round trip to its
/// server).
const GATHER: usize = 8 << 10;

/// One end of a worker's channel: a named pipe opened for overlapped I/O, not inheritable,
/// and the process at its other end, from which the handles of shared memory are taken
/// (`handed_over`).
///
/// Not `Sync` (the `RefCell`): one thread at a time uses a stream, and each of its
/// operations ends before the call that started it returns, so at most one is in flight and
/// `event` is signalled by that one only.
pub(crate) struct Stream {
    /// The pipe; `None` once `close_write` closed it.
    pipe: RefCell<Option<OwnedHandle>>,
    /// A manual-reset event that the operation in flight signals when it ends.
    event: OwnedHandle,
    /// The process at the other end. Both ends of a `channel` share one, which `spawn` sets
    /// to the worker through the end it hands over.
    peer: Arc<Peer>,
}

/// The process at the other end of a channel, with the right to take handles from it
/// (`PROCESS_DUP_HANDLE`).
struct Peer {
    /// Set once: by `spawn` in the pool (the worker's process), by `ParentWatch::new` in a
    /// worker (the pool's process, checked not to be a later process reusing its id).
    process: OnceLock<OwnedHandle>,
    /// Whether, until `process` is set, the peer is this very process: both ends of a
    /// `channel` are here until `spawn` hands one to a child (so in-process tests work). A
    /// worker's stream says `false`: until its pool's process is known it takes nothing.
    here_until_set: bool,
}

impl Peer {
    fn new(here_until_set: bool) -> Arc<Self> {
        Arc::new(Self {
            process: OnceLock::new(),
            here_until_set,
        })
    }

    /// A handle to the peer's process, if known.
    fn process(&self) -> Option<HANDLE> {
        match self.process.get() {
            Some(process) => Some(process.as_raw_handle()),
            // SAFETY: `GetCurrentProcess` has no preconditions.
            None => self.here_until_set.then(|| unsafe { GetCurrentProcess() }),
        }
    }
}

/// A connected pair of streams: the pool's end (the pipe's server end), then the worker's (its
/// client end). Neither handle is inheritable, so no child inherits either unless `spawn`
/// hands it over. Nothing else can reach the pipe: its name is random and made here; it has
/// one instance (`FILE_FLAG_FIRST_PIPE_INSTANCE` makes the creation fail if the name was
/// taken), which this process connects to at once; it refuses remote clients; its security
/// descriptor admits the current user only; and the connected client is checked to be this
/// process.
pub(crate) fn channel() -> io::Result<(Stream, Stream)> {
    let name = pipe_name();
    let descriptor = current_user_only()?;
    let attributes = SECURITY_ATTRIBUTES {
        nLength: size_of::<SECURITY_ATTRIBUTES>() as u32,
        lpSecurityDescriptor: descriptor.0,
        bInheritHandle: FALSE,
    };
    // SAFETY: `name` is a NUL-terminated UTF-16 string and `attributes` (with the security
    // descriptor it points to) a valid structure, both outliving the call, which reads them.
    let server = unsafe {
        CreateNamedPipeW(
            name.as_ptr(),
            PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
            PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
            1,
            PIPE_BUFFER,
            PIPE_BUFFER,
            0,
            &attributes,
        )
    };
    let server = owned(server, "CreateNamedPipeW")?;
    // SAFETY: as above, the name is NUL-terminated and outlives the call; no security
    // attributes (so the handle is not inheritable) and no template.
    let client = unsafe {
        CreateFileW(
            name.as_ptr(),
            GENERIC_READ | GENERIC_WRITE,
            0,
            std::ptr::null(),
            OPEN_EXISTING,
            FILE_FLAG_OVERLAPPED,
            std::ptr::null_mut(),
        )
    };
    let client = owned(client, "CreateFileW of the pipe")?;
    let mut connected = 0;
    // SAFETY: `server` is a valid pipe handle and `connected` a valid `u32` to write.
    let known = unsafe { GetNamedPipeClientProcessId(server.as_raw_handle(), &mut connected) };
    if known == FALSE {
        return Err(failed("GetNamedPipeClientProcessId"));
    }
    // SAFETY: `GetCurrentProcessId` has no preconditions.
    if connected != unsafe { GetCurrentProcessId() } {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "another process connected to a worker's channel first",
        ));
    }
    let peer = Peer::new(true);
    Ok((
        Stream::new(server, Arc::clone(&peer))?,
        Stream::new(client, peer)?,
    ))
}

/// A pipe name no other pool or program uses, and no other process can guess: this process's
/// id, a count, and 128 bits from the standard library's randomly keyed SipHash (its keys
/// come from the system's random source).
fn pipe_name() -> Vec<u16> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let count = NEXT.fetch_add(1, Ordering::Relaxed);
    let random = |salt: u64| {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(count);
        hasher.write_u64(salt);
        hasher.finish()
    };
    let name = format!(
        r"\\.\pipe\parallel-{}-{count}-{:016x}{:016x}",
        std::process::id(),
        random(0),
        random(1)
    );
    wide(&name)
}

/// `text` as a NUL-terminated UTF-16 string.
fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(Some(0)).collect()
}

/// Memory that the system allocated with `LocalAlloc` (a security descriptor, a string), freed
/// when dropped.
struct Local(*mut core::ffi::c_void);

impl Drop for Local {
    fn drop(&mut self) {
        // SAFETY: the pointer came from a system call that allocates with `LocalAlloc` and
        // leaves the freeing to its caller; nothing else frees it.
        unsafe { LocalFree(self.0) };
    }
}

/// A security descriptor whose access list grants the current user everything and nobody
/// else anything (`D:P(A;;GA;;;<user's SID>)`: protected, so nothing is inherited either).
/// The default one of a named pipe would let everyone read it.
fn current_user_only() -> io::Result<Local> {
    static SDDL: OnceLock<Vec<u16>> = OnceLock::new();
    let sddl = match SDDL.get() {
        Some(sddl) => sddl,
        None => {
            let sddl = wide(&format!("D:P(A;;GA;;;{})", user_sid()?));
            SDDL.get_or_init(|| sddl)
        }
    };
    let mut descriptor = std::ptr::null_mut();
    // SAFETY: `sddl` is a NUL-terminated UTF-16 string; the call writes a pointer to a new
    // descriptor into `descriptor`, which `Local` frees; the size is not asked for.
    let made = unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(
            sddl.as_ptr(),
            SDDL_REVISION_1,
            &mut descriptor,
            std::ptr::null_mut(),
        )
    };
    if made == FALSE {
        return Err(failed(
            "ConvertStringSecurityDescriptorToSecurityDescriptorW",
        ));
    }
    Ok(Local(descriptor))
}

/// The current user's security identifier, as a string (`S-1-5-21-…`).
fn user_sid() -> io::Result<String> {
    let mut token = std::ptr::null_mut();
    // SAFETY: the pseudo-handle of this process is always valid; the call writes a new
    // token handle into `token`, which `owned` takes.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == FALSE {
        return Err(failed("OpenProcessToken"));
    }
    let token = owned(token, "OpenProcessToken")?;
    let mut size = 0;
    // SAFETY: asks for the size only: no buffer, a valid `u32` to write the size into.
    unsafe {
        GetTokenInformation(
            token.as_raw_handle(),
            TokenUser,
            std::ptr::null_mut(),
            0,
            &mut size,
        )
    };
    // SAFETY: `GetLastError` has no preconditions.
    if unsafe { GetLastError() } != ERROR_INSUFFICIENT_BUFFER {
        return Err(failed("GetTokenInformation"));
    }
    // `u64`s, so that the `TOKEN_USER` at its start is aligned.
    let mut buffer = vec![0u64; (size as usize).div_ceil(8)];
    // SAFETY: `buffer` has room for `size` bytes, which the call writes at most.
    let got = unsafe {
        GetTokenInformation(
            token.as_raw_handle(),
            TokenUser,
            buffer.as_mut_ptr().cast(),
            size,
            &mut size,
        )
    };
    if got == FALSE {
        return Err(failed("GetTokenInformation"));
    }
    // SAFETY: the call filled `buffer` with a `TOKEN_USER` (aligned: see above), whose SID
    // points into the same buffer, which lives until the end of this function.
    let sid = unsafe { (*buffer.as_ptr().cast::<TOKEN_USER>()).User.Sid };
    let mut text = std::ptr::null_mut();
    // SAFETY: `sid` is a valid SID (above); the call writes a pointer to a new NUL-terminated
    // string into `text`, which `Local` frees.
    if unsafe { ConvertSidToStringSidW(sid, &mut text) } == FALSE {
        return Err(failed("ConvertSidToStringSidW"));
    }
    let text = Local(text.cast());
    let start = text.0.cast::<u16>();
    // SAFETY: `start` points to a NUL-terminated UTF-16 string (above), alive while `text`
    // is: the slice covers it up to, not including, its NUL.
    let units = unsafe {
        let mut len = 0;
        while *start.add(len) != 0 {
            len += 1;
        }
        std::slice::from_raw_parts(start, len)
    };
    String::from_utf16(units).map_err(|_| io::Error::other("a SID that is not UTF-16"))
}

/// Takes ownership of a handle that the system call `call` returned, or its error: the calls
/// return null or `INVALID_HANDLE_VALUE` on failure.
fn owned(handle: HANDLE, call: &str) -> io::Result<OwnedHandle> {
    if handle.is_null() || handle == INVALID_HANDLE_VALUE {
        return Err(failed(call));
    }
    // SAFETY: the system call that returned `handle` just made it, and gave it to us alone.
    Ok(unsafe { OwnedHandle::from_raw_handle(handle) })
}

/// The error of the system call `call`, which just failed, saying which call it was.
fn failed(call: &str) -> io::Error {
    let error = io::Error::last_os_error();
    io::Error::new(error.kind(), format!("{call} failed: {error}"))
}

/// `timeout` in the milliseconds `WaitForSingleObject` takes, rounded up; `INFINITE` for none.
fn millis(timeout: Option<Duration>) -> u32 {
    match timeout {
        None => INFINITE,
        Some(timeout) => u32::try_from(timeout.as_micros().div_ceil(1000))
            .unwrap_or(INFINITE - 1)
            .min(INFINITE - 1),
    }
}

fn is_broken_pipe(error: &io::Error) -> bool {
    error.raw_os_error() == Some(ERROR_BROKEN_PIPE as i32)
}

impl Stream {
    fn new(pipe: OwnedHandle, peer: Arc<Peer>) -> io::Result<Self> {
        // SAFETY: no security attributes, no name: a new unnamed manual-reset event, not
        // signalled, which `owned` takes.
        let event = unsafe { CreateEventW(std::ptr::null(), TRUE, FALSE, std::ptr::null()) };
        Ok(Self {
            pipe: RefCell::new(Some(pipe)),
            event: owned(event, "CreateEventW")?,
            peer,
        })
    }

    /// Reads what has arrived into `buffer`, blocking while nothing has; `Ok(0)` at the end
    /// of the stream (the peer closed its end: `ERROR_BROKEN_PIPE`).
    pub(crate) fn read(&self, buffer: &mut [u8]) -> io::Result<usize> {
        let len = u32::try_from(buffer.len()).unwrap_or(u32::MAX);
        let pointer = buffer.as_mut_ptr();
        // SAFETY: `buffer` has room for `len` bytes and stays borrowed for this whole call,
        // which `overlapped` does not leave before the read has ended.
        let read = self.overlapped(Op::Read, None, |pipe, overlapped| unsafe {
            ReadFile(pipe, pointer, len, std::ptr::null_mut(), overlapped)
        });
        match read {
            Ok(read) => Ok(read.unwrap_or(0) as usize),
            Err(error) if is_broken_pipe(&error) => Ok(0),
            Err(error) => Err(error),
        }
    }

    /// `read`: no handle travels beside the bytes here (a pipe carries none); a region's
    /// handle travels in its frame instead, as a value (`SharedMemory::handover`), taken
    /// by `handed_over`.
    pub(crate) fn read_with(
        &self,
        buffer: &mut [u8],
        _descriptors: &mut std::collections::VecDeque<OwnedHandle>,
    ) -> io::Result<usize> {
        self.read(buffer)
    }

    /// `write_vectored`: `memory`'s handle is in the frame already (`SharedMemory::handover`),
    /// and stays open in this process until the peer has taken its own (`shm.rs`).
    pub(crate) fn write_with(
        &self,
        slices: &[IoSlice<'_>],
        _memory: Option<&SharedMemory>,
    ) -> io::Result<usize> {
        self.write_vectored(slices)
    }

    /// The region handed over with a shared frame whose handover bytes are `token`: the peer's
    /// handle value, which this takes into a handle of our own (`DuplicateHandle` from the
    /// peer's process, with the right to map it for reading only). Never `None` (on Unix,
    /// `None` is a frame that came without its descriptor). A value that is no handle of the
    /// peer's (garbage, or a peer that died, taking its handles with it) is an error, which
    /// fails that task only; one that names something other than a section is refused when
    /// mapped (`SharedMemory::open`).
    pub(crate) fn handed_over(
        &self,
        token: [u8; super::HANDOVER],
        _descriptors: &mut std::collections::VecDeque<OwnedHandle>,
    ) -> Option<Result<OwnedHandle, String>> {
        Some(self.take_handle(u64::from_le_bytes(token)))
    }

    fn take_handle(&self, value: u64) -> Result<OwnedHandle, String> {
        let Some(peer) = self.peer.process() else {
            return Err(
                "the pool's process could not be opened to take its shared memory".to_owned(),
            );
        };
        // Handle values are small and positive; negative ones are pseudo-handles (the peer's
        // process or thread itself), which are no payload.
        let source = match isize::try_from(value) {
            Ok(value) if value > 0 => value as HANDLE,
            _ => return Err(format!("the payload's handle {value:#x} is no handle")),
        };
        let mut taken = std::ptr::null_mut();
        // SAFETY: `peer` is a valid process handle (or this process's pseudo-handle) and
        // `taken` a valid place for the new handle; `source` is only looked up in the peer's
        // handle table by the system, which fails the call if it names nothing there. Nothing
        // of this process's memory is touched.
        let took = unsafe {
            DuplicateHandle(
                peer,
                source,
                GetCurrentProcess(),
                &mut taken,
                FILE_MAP_READ,
                FALSE,
                0,
            )
        };
        if took == FALSE {
            let error = io::Error::last_os_error();
            // SAFETY: a valid process handle; a zero timeout only asks whether it has ended.
            if unsafe { WaitForSingleObject(peer, 0) } == WAIT_OBJECT_0 {
                // Its handles closed as it ended: unlike a descriptor in flight on Unix,
                // nothing kept the region for us.
                return Err(format!(
                    "the peer's process ended before its shared memory (handle {value:#x}) \
                     was taken"
                ));
            }
            return Err(format!(
                "the payload's handle {value:#x} could not be taken from the peer: {error}"
            ));
        }
        owned(taken, "DuplicateHandle")
            .map_err(|error| format!("the payload's handle {value:#x}: {error}"))
    }

    /// Writes `slices` (small ones copied together first, up to `GATHER` bytes); returns how
    /// many bytes went. A peer that died fails it with `ERROR_NO_DATA` or
    /// `ERROR_BROKEN_PIPE`.
    pub(crate) fn write_vectored(&self, slices: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut nonempty = slices.iter().filter(|slice| !slice.is_empty());
        let Some(first) = nonempty.next() else {
            return Ok(0);
        };
        if first.len() >= GATHER || nonempty.next().is_none() {
            return self.write(first);
        }
        let mut gathered = [0u8; GATHER];
        let mut filled = 0;
        for slice in slices {
            let take = slice.len().min(GATHER - filled);
            gathered[filled..filled + take].copy_from_slice(&slice[..take]);
            filled += take;
            if filled == GATHER {
                break;
            }
        }
        self.write(&gathered[..filled])
    }

    /// One write of `bytes`; returns how many went (a blocking write to a pipe writes them
    /// all).
    fn write(&self, bytes: &[u8]) -> io::Result<usize> {
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        let pointer = bytes.as_ptr();
        // SAFETY: `bytes` holds `len` bytes and stays borrowed for this whole call, which
        // `overlapped` does not leave before the write has ended.
        let written = self.overlapped(Op::Write, None, |pipe, overlapped| unsafe {
            WriteFile(pipe, pointer, len, std::ptr::null_mut(), overlapped)
        })?;
        Ok(written.unwrap_or(0) as usize)
    }

    /// Whether the stream is readable (data, end of stream or an error), waiting up to
    /// `timeout` (forever if `None`). `Ok(false)` when the time ran out.
    ///
    /// Without a timeout to wait, it peeks (`PeekNamedPipe`). Otherwise it waits in a read of
    /// zero bytes, which ends when data arrives or the peer closes its end and takes nothing
    /// from the pipe; when the time runs out it is cancelled.
    pub(crate) fn poll_readable(&self, timeout: Option<Duration>) -> io::Result<bool> {
        if timeout == Some(Duration::ZERO) {
            return self.peek();
        }
        let mut nothing = 0u8;
        let pointer: *mut u8 = &mut nothing;
        // SAFETY: a read of zero bytes into `nothing`, which lives across this whole call, which
        // `overlapped` does not leave before the read has ended.
        let read = self.overlapped(Op::Read, timeout, |pipe, overlapped| unsafe {
            ReadFile(pipe, pointer, 0, std::ptr::null_mut(), overlapped)
        });
        match read {
            Ok(done) => Ok(done.is_some()),
            Err(error) if is_broken_pipe(&error) => Ok(true),
            Err(error) => Err(error),
        }
    }

    /// Whether bytes, or the end of the stream, can be read now.
    fn peek(&self) -> io::Result<bool> {
        let pipe = self.pipe.borrow();
        let pipe = pipe.as_ref().ok_or_else(closed)?;
        let mut available = 0;
        // SAFETY: a valid pipe handle; no buffer; only `available` is written, a valid `u32`.
        let peeked = unsafe {
            PeekNamedPipe(
                pipe.as_raw_handle(),
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut(),
                &mut available,
                std::ptr::null_mut(),
            )
        };
        if peeked != FALSE {
            return Ok(available > 0);
        }
        let error = io::Error::last_os_error();
        if is_broken_pipe(&error) {
            Ok(true)
        } else {
            Err(error)
        }
    }

    /// Runs one overlapped operation on the pipe to its end: `start` issues it (`ReadFile` or
    /// `WriteFile` with the pipe and the `OVERLAPPED` it is given), and this waits for it, at
    /// most `timeout` (`None`: as long as it takes). Returns how many bytes it moved, or
    /// `None` if the time ran out and it was cancelled first.
    ///
    /// It never returns while the operation is pending: after a timeout it cancels it and
    /// waits for it to end, so whatever `start` hands the system (a buffer borrowed for the
    /// caller's call, and the `OVERLAPPED` here) outlives the operation.
    ///
    /// Once the peer's process is known, the wait also ends when that process does: its end
    /// of the pipe may live on in a process that inherited a copy (see `spawn`), and the pipe
    /// would then never say it broke. The operation is cancelled then, and a peer that ended
    /// reads as the end of the stream (`ERROR_BROKEN_PIPE`) once what it wrote before it ended
    /// has been read: a read that finds bytes waiting is issued again (`start` is called once
    /// more). A write to a peer that ended fails so at once.
    fn overlapped(
        &self,
        op: Op,
        timeout: Option<Duration>,
        mut start: impl FnMut(HANDLE, *mut OVERLAPPED) -> i32,
    ) -> io::Result<Option<u32>> {
        let pipe = self.pipe.borrow();
        let pipe = pipe.as_ref().ok_or_else(closed)?.as_raw_handle();
        let fresh = || OVERLAPPED {
            hEvent: self.event.as_raw_handle(),
            ..OVERLAPPED::default()
        };
        // Each pass issues the operation once, with an `OVERLAPPED` that stays where it is
        // until the operation has ended; only then is it moved out (`break`).
        let overlapped = loop {
            let mut overlapped = fresh();
            if start(pipe, &mut overlapped) != FALSE {
                break overlapped;
            }
            let error = io::Error::last_os_error();
            if error.raw_os_error() != Some(ERROR_IO_PENDING as i32) {
                return Err(error); // it never started
            }
            let waited = self.wait(overlapped.hEvent, timeout);
            if waited == WAIT_OBJECT_0 {
                break overlapped;
            }
            // SAFETY: `overlapped` names an operation this call started on `pipe`; asking to
            // cancel it has no other effect, whether or not it has ended.
            unsafe { CancelIoEx(pipe, &overlapped) };
            let mut moved = 0;
            // SAFETY: waits (`TRUE`) until the operation has ended, cancelled or not: the
            // event is signalled by it alone (the type's invariant).
            let ended = unsafe { GetOverlappedResult(pipe, &overlapped, &mut moved, TRUE) };
            if ended != FALSE {
                return Ok(Some(moved)); // it ended as the wait did
            }
            let error = io::Error::last_os_error();
            if error.raw_os_error() != Some(ERROR_OPERATION_ABORTED as i32) {
                return Err(error);
            }
            if waited == WAIT_TIMEOUT {
                return Ok(None);
            }
            if waited != PEER_ENDED {
                return Err(failed("WaitForMultipleObjects"));
            }
            // The peer is gone and this operation took nothing. Whatever it wrote before it
            // ended is in the pipe already (a write to a pipe is done when its bytes are in the
            // pipe's buffer); once that is read, the stream has ended.
            if op == Op::Write || !self.peek()? {
                return Err(io::Error::from_raw_os_error(ERROR_BROKEN_PIPE as i32));
            }
        };
        let mut moved = 0;
        // SAFETY: the operation has ended (it completed at once, or signalled the event);
        // this reads its result from `overlapped`, without waiting.
        if unsafe { GetOverlappedResult(pipe, &overlapped, &mut moved, FALSE) } == FALSE {
            return Err(io::Error::last_os_error());
        }
        Ok(Some(moved))
    }

    /// Waits up to `timeout` for `event` (`WAIT_OBJECT_0`) or, once it is known, the peer's
    /// process to end (`PEER_ENDED`); `WAIT_TIMEOUT` if neither came in time. When both have,
    /// it says `WAIT_OBJECT_0` (the lower index wins).
    fn wait(&self, event: HANDLE, timeout: Option<Duration>) -> u32 {
        match self.peer.process.get() {
            // SAFETY: two valid handles (an event this stream owns, a process handle its peer
            // keeps for the stream's life), in an array that outlives the call.
            Some(process) => unsafe {
                let handles = [event, process.as_raw_handle()];
                WaitForMultipleObjects(2, handles.as_ptr(), FALSE, millis(timeout))
            },
            // SAFETY: `event` is a valid event handle, owned by this stream.
            None => unsafe { WaitForSingleObject(event, millis(timeout)) },
        }
    }

    /// Closes this end of the pipe: the peer reads what was sent, then the end of the stream.
    /// A pipe cannot be closed in one direction only, so this stream can no longer read
    /// either (only `Worker::retire` closes a stream, and reads nothing after).
    pub(crate) fn close_write(&self) {
        drop(self.pipe.borrow_mut().take());
    }

    /// The pipe's handle, for a child to inherit.
    fn into_pipe(self) -> io::Result<OwnedHandle> {
        self.pipe.into_inner().ok_or_else(closed)
    }
}

/// What an overlapped operation does, for what `Stream::overlapped` makes of a peer that
/// ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Read,
    Write,
}

/// What `Stream::wait` returns when the peer's process ended first.
const PEER_ENDED: u32 = WAIT_OBJECT_0 + 1;

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the channel was closed")
}

/// In a worker: a watch on its pool's process, for the watchdog thread: a handle to it,
/// signalled when it ends. (Windows has no cheap `getppid`; the pool's id comes from its
/// `PARALLEL_WORKER` variable.)
pub(crate) struct ParentWatch(OwnedHandle);

impl ParentWatch {
    /// Watches the process `parent`; `None` if it is gone already. An id alone could name a
    /// process that merely reuses a dead pool's id, which was necessarily started after this
    /// worker: a process started later is refused.
    ///
    /// The same handle, checked so, is how the worker takes the handles of the shared memory
    /// its pool hands over (`PROCESS_DUP_HANDLE`): `channel` gets a copy of it.
    pub(crate) fn new(parent: u32, channel: &Stream) -> Option<Self> {
        let access = PROCESS_SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_DUP_HANDLE;
        // SAFETY: `OpenProcess` has no memory-safety preconditions; `owned` takes the handle.
        let process = owned(unsafe { OpenProcess(access, FALSE, parent) }, "OpenProcess").ok()?;
        // SAFETY: `GetCurrentProcess` has no preconditions.
        let this = unsafe { GetCurrentProcess() };
        let started_after_us = match (started(process.as_raw_handle()), started(this)) {
            (Some(theirs), Some(ours)) => theirs > ours,
            _ => false, // unknown: the Job Object still ends us with the pool
        };
        // SAFETY: a valid process handle; a zero timeout only asks whether it has ended.
        let ended = unsafe { WaitForSingleObject(process.as_raw_handle(), 0) } == WAIT_OBJECT_0;
        if started_after_us || ended {
            return None;
        }
        if let Ok(copy) = process.try_clone() {
            // Unset until now: a worker's stream is made by `take_channel`, which leaves it.
            let _ = channel.peer.process.set(copy);
        }
        Some(Self(process))
    }

    /// Blocks until the pool's process is gone (`true`); `false` if it cannot be watched.
    pub(crate) fn wait(&self) -> bool {
        // SAFETY: a valid process handle, owned by `self`.
        unsafe { WaitForSingleObject(self.0.as_raw_handle(), INFINITE) == WAIT_OBJECT_0 }
    }
}

/// When `process` (a valid handle) started, in the system's 100 ns units.
fn started(process: HANDLE) -> Option<u64> {
    let [mut created, mut exited, mut kernel, mut user] = [FILETIME::default(); 4];
    // SAFETY: a valid process handle and four valid `FILETIME`s to write.
    let got =
        unsafe { GetProcessTimes(process, &mut created, &mut exited, &mut kernel, &mut user) };
    (got != FALSE)
        .then(|| u64::from(created.dwHighDateTime) << 32 | u64::from(created.dwLowDateTime))
}

/// A worker process: a handle to it, with every right (`CreateProcessW` gives it so), and its
/// id.
pub(crate) struct Child {
    process: OwnedHandle,
    id: u32,
}

/// Starts `program` with `env` (a name and its value) added to its environment and the
/// worker's end of a `channel` as its standard input; its stdout and stderr are this
/// process's own.
///
/// The child is in the program's kill-on-close Job Object (`job`) from its creation on
/// (`PROC_THREAD_ATTRIBUTE_JOB_LIST`), so no moment exists in which this process could end and
/// leave it behind. Assigning the job after the start left one: `CreateProcess` makes the
/// first thread suspended and resumes it before returning, and a program that ended (or was
/// killed) between the two left its worker suspended for ever, outside the job, its
/// `ParentWatch` never started (seen under Wine, about one run in twelve of a test whose
/// program ends as it submits).
///
/// It inherits exactly its three standard handles (`PROC_THREAD_ATTRIBUTE_HANDLE_LIST`):
/// inheritable copies made for this call alone and closed after it. Another spawn of this
/// process that inherits every inheritable handle (std's `Command`, under a lock of its own)
/// could take a copy too, in that moment. A worker's end held by a stranger would keep the
/// pipe from breaking when the worker dies, so the pool's waits on the pipe also end when the
/// worker's process does (`Stream::overlapped`).
pub(crate) fn spawn(program: &Path, env: (&str, &str), channel: Stream) -> io::Result<Child> {
    let job = job()?;
    let peer = Arc::clone(&channel.peer);
    let stdin = channel.into_pipe()?;
    let mut child = start(program, env, &stdin, job)?;
    // The worker has its own copy of its end now. The pool's end talks to the worker from
    // here on: its shared memory is taken from there. (A handle from `CreateProcessW` has
    // every right, `PROCESS_DUP_HANDLE` among them.)
    drop(stdin);
    match child.process.try_clone() {
        Ok(process) => {
            let _ = peer.process.set(process);
            Ok(child)
        }
        Err(error) => {
            child.kill();
            child.wait();
            Err(error)
        }
    }
}

/// Starts `program`'s process for `spawn`. Wine 8 fails about one start in several thousand,
/// under load, with `ERROR_INTERNAL_ERROR` (its answer when the new process dies before it has
/// finished starting); the start is tried again then, a few times, rather than break the pool.
fn start(program: &Path, env: (&str, &str), stdin: &OwnedHandle, job: HANDLE) -> io::Result<Child> {
    const TRIES: usize = 3;
    let application = wide_path(program)?;
    let environment = environment_block(env)?;
    let mut tried = 1;
    loop {
        match create_process(&application, &environment, stdin, job) {
            Err(error)
                if error.raw_os_error() == Some(ERROR_INTERNAL_ERROR as i32) && tried < TRIES =>
            {
                tried += 1;
            }
            started => {
                return started.map_err(|error| {
                    io::Error::new(error.kind(), format!("CreateProcessW failed: {error}"))
                })
            }
        }
    }
}

/// `path` as a null-terminated wide string; a path with a NUL in it is refused.
fn wide_path(path: &Path) -> io::Result<Vec<u16>> {
    let mut wide: Vec<u16> = path.as_os_str().encode_wide().collect();
    if wide.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the program's path has a NUL in it",
        ));
    }
    wide.push(0);
    Ok(wide)
}

/// The worker's environment, as `CreateProcessW` takes it (`CREATE_UNICODE_ENVIRONMENT`):
/// this process's variables, less an MPI launcher's (`super::is_launcher_variable`) and any
/// named as `env` is, then `env`; each `name=value` null-terminated, sorted by name without
/// regard to case as Windows keeps them, and a last NUL.
fn environment_block(env: (&str, &str)) -> io::Result<Vec<u16>> {
    let mut variables: Vec<(Vec<u16>, Vec<u16>)> = std::env::vars_os()
        .filter(|(name, _)| !super::is_launcher_variable(name))
        .filter(|(name, _)| !name.eq_ignore_ascii_case(env.0))
        .map(|(name, value)| (name.encode_wide().collect(), value.encode_wide().collect()))
        .collect();
    variables.push((
        env.0.encode_utf16().collect(),
        env.1.encode_utf16().collect(),
    ));
    let upper = |name: &[u16]| -> Vec<u16> {
        name.iter()
            .map(|&unit| match u8::try_from(unit) {
                Ok(byte) => u16::from(byte.to_ascii_uppercase()),
                Err(_) => unit,
            })
            .collect()
    };
    variables.sort_by_cached_key(|(name, _)| upper(name));
    let mut block = Vec::new();
    for (name, value) in variables {
        if name.contains(&0) || value.contains(&0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "an environment variable has a NUL in it",
            ));
        }
        block.extend(name);
        block.push(u16::from(b'='));
        block.extend(value);
        block.push(0);
    }
    block.push(0);
    Ok(block)
}

/// An inheritable copy of `handle`, for one `CreateProcessW` call; `None` for a null or
/// invalid handle (a standard handle this process does not have) or one that cannot be
/// copied.
fn inheritable(handle: HANDLE) -> Option<OwnedHandle> {
    if handle.is_null() || handle == INVALID_HANDLE_VALUE {
        return None;
    }
    let mut copy: HANDLE = std::ptr::null_mut();
    // SAFETY: `handle` is one of this process's handles (a standard handle or one it owns),
    // copied within this process; the call writes `copy`, which `owned` then takes.
    let copied = unsafe {
        let this = GetCurrentProcess();
        DuplicateHandle(
            this,
            handle,
            this,
            &mut copy,
            0,
            TRUE,
            DUPLICATE_SAME_ACCESS,
        )
    };
    if copied == FALSE {
        return None;
    }
    owned(copy, "DuplicateHandle").ok()
}

/// One `CreateProcessW` of `application` (a wide path) with `environment` (a block from
/// `environment_block`), `stdin` as its standard input and this process's stdout and stderr,
/// made in `job`. See `spawn`.
fn create_process(
    application: &[u16],
    environment: &[u16],
    stdin: &OwnedHandle,
    job: HANDLE,
) -> io::Result<Child> {
    let stdin = inheritable(stdin.as_raw_handle())
        .ok_or_else(|| failed("DuplicateHandle (the worker's channel)"))?;
    // SAFETY: `GetStdHandle` has no preconditions; what it returns is only copied.
    let (stdout, stderr) = unsafe {
        (
            inheritable(GetStdHandle(STD_OUTPUT_HANDLE)),
            inheritable(GetStdHandle(STD_ERROR_HANDLE)),
        )
    };
    let raw = |handle: &Option<OwnedHandle>| {
        handle
            .as_ref()
            .map_or(std::ptr::null_mut(), |handle| handle.as_raw_handle())
    };
    let inherited: Vec<HANDLE> = [Some(&stdin), stdout.as_ref(), stderr.as_ref()]
        .into_iter()
        .flatten()
        .map(|handle| handle.as_raw_handle())
        .collect();
    let attributes = Attributes::new(&inherited, &job)?;
    // The command line is the program's path, quoted: a worker takes no arguments. A path
    // holds no `"`, and never ends in `\`, so the quotes cannot be escaped away.
    let mut command_line = Vec::with_capacity(application.len() + 2);
    command_line.push(u16::from(b'"'));
    command_line.extend_from_slice(&application[..application.len() - 1]);
    command_line.extend([u16::from(b'"'), 0]);
    let mut info = STARTUPINFOEXW::default();
    info.StartupInfo.cb = size_of::<STARTUPINFOEXW>() as u32;
    info.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    info.StartupInfo.hStdInput = stdin.as_raw_handle();
    info.StartupInfo.hStdOutput = raw(&stdout);
    info.StartupInfo.hStdError = raw(&stderr);
    info.lpAttributeList = attributes.list();
    let mut started = PROCESS_INFORMATION::default();
    // SAFETY: every pointer is valid for the call: `application` and `command_line` are
    // null-terminated wide strings (the latter writable, as the call requires); `environment`
    // is a block of null-terminated `name=value` strings ending in a NUL, as
    // `CREATE_UNICODE_ENVIRONMENT` says; `info` is a `STARTUPINFOEXW` whose `cb` says so, with
    // `EXTENDED_STARTUPINFO_PRESENT`, and its attribute list is initialized and outlives the
    // call, as do the handles and the job it points to; `started` is written by the call.
    let created = unsafe {
        CreateProcessW(
            application.as_ptr(),
            command_line.as_mut_ptr(),
            std::ptr::null(),
            std::ptr::null(),
            TRUE,
            EXTENDED_STARTUPINFO_PRESENT | CREATE_UNICODE_ENVIRONMENT,
            environment.as_ptr().cast(),
            std::ptr::null(),
            &info.StartupInfo,
            &mut started,
        )
    };
    if created == FALSE {
        return Err(io::Error::last_os_error());
    }
    // The inheritable copies (stdin, stdout, stderr) close as this returns, and so does the
    // handle to the worker's first thread, which nothing here uses.
    let process = owned(started.hProcess, "CreateProcessW")?;
    drop(owned(started.hThread, "CreateProcessW"));
    Ok(Child {
        process,
        id: started.dwProcessId,
    })
}

/// A process-and-thread attribute list of two entries: the handles a child inherits and the
/// job it starts in. The values it points to are the caller's, borrowed for its life.
struct Attributes<'a> {
    /// The list's memory, in `u64`s for its alignment.
    memory: Vec<u64>,
    values: std::marker::PhantomData<&'a [HANDLE]>,
}

impl<'a> Attributes<'a> {
    fn new(inherited: &'a [HANDLE], job: &'a HANDLE) -> io::Result<Self> {
        let mut size = 0;
        // SAFETY: a null list asks for the size (the call fails with ERROR_INSUFFICIENT_BUFFER
        // and writes `size`).
        unsafe { InitializeProcThreadAttributeList(std::ptr::null_mut(), 2, 0, &mut size) };
        let mut memory = vec![0u64; size.div_ceil(size_of::<u64>())];
        let list = memory.as_mut_ptr().cast();
        // SAFETY: `list` has room for `size` bytes, the size the call asked for two entries.
        if unsafe { InitializeProcThreadAttributeList(list, 2, 0, &mut size) } == FALSE {
            return Err(failed("InitializeProcThreadAttributeList"));
        }
        let attributes = Self {
            memory,
            values: std::marker::PhantomData,
        };
        let entries = [
            (
                PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
                inherited.as_ptr().cast(),
                size_of_val(inherited),
            ),
            (
                PROC_THREAD_ATTRIBUTE_JOB_LIST,
                std::ptr::from_ref(job).cast(),
                size_of::<HANDLE>(),
            ),
        ];
        for (attribute, value, len) in entries {
            // SAFETY: an initialized list with room for two entries, given two; `value`
            // points to `len` bytes that live as long as `'a`, which outlives the list (the
            // call keeps the pointer, not a copy).
            let updated = unsafe {
                UpdateProcThreadAttribute(
                    attributes.list(),
                    0,
                    attribute as usize,
                    value,
                    len,
                    std::ptr::null_mut(),
                    std::ptr::null(),
                )
            };
            if updated == FALSE {
                return Err(failed("UpdateProcThreadAttribute"));
            }
        }
        Ok(attributes)
    }

    fn list(&self) -> LPPROC_THREAD_ATTRIBUTE_LIST {
        self.memory.as_ptr().cast_mut().cast()
    }
}

impl Drop for Attributes<'_> {
    fn drop(&mut self) {
        // SAFETY: the list was initialized by `new` (a list is only made so) and is deleted
        // once, here.
        unsafe { DeleteProcThreadAttributeList(self.list()) };
    }
}

/// The program's Job Object, made at the first spawn: `JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE`,
/// so the system ends every worker when this process ends and its handle closes (the static
/// keeps it open until then), and `JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION`, so a worker
/// that crashes ends at once instead of waiting on an error-reporting dialog.
fn job() -> io::Result<HANDLE> {
    // The error is kept as its message: a failure to make the job is the same at every spawn.
    static JOB: OnceLock<Result<OwnedHandle, String>> = OnceLock::new();
    match JOB.get_or_init(|| new_job().map_err(|error| error.to_string())) {
        Ok(job) => Ok(job.as_raw_handle()),
        Err(message) => Err(io::Error::other(message.clone())),
    }
}

fn new_job() -> io::Result<OwnedHandle> {
    // SAFETY: no security attributes (not inheritable), no name; `owned` takes the handle.
    let job = owned(
        unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) },
        "CreateJobObjectW",
    )?;
    let mut limits = JOBOBJECT_EXTENDED_LIMIT_INFORMATION::default();
    limits.BasicLimitInformation.LimitFlags =
        JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION;
    // SAFETY: a valid job handle, and a valid structure of the size and class given.
    let set = unsafe {
        SetInformationJobObject(
            job.as_raw_handle(),
            JobObjectExtendedLimitInformation,
            (&limits as *const JOBOBJECT_EXTENDED_LIMIT_INFORMATION).cast(),
            size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
        )
    };
    if set == FALSE {
        return Err(failed("SetInformationJobObject"));
    }
    Ok(job)
}

impl Child {
    /// The process id.
    pub(crate) fn id(&self) -> u32 {
        self.id
    }

    /// What `send_signal` needs to reach this process from another thread: a handle of its
    /// own, so it names this process for as long as it is open.
    pub(crate) fn handle(&self) -> io::Result<ProcessHandle> {
        Ok(ProcessHandle(self.process.try_clone()?))
    }

    /// Ends the process (`TerminateProcess`), if it is still running.
    pub(crate) fn kill(&mut self) {
        terminate(self.process.as_raw_handle());
    }

    /// Waits for the process to end and says how it ended: its exit code, which for a crash
    /// is the `NTSTATUS` of the exception (`0xC0000005`, an access violation).
    pub(crate) fn wait(&mut self) -> WorkerExit {
        let process = self.process.as_raw_handle();
        let mut code = 0u32;
        // SAFETY: a valid process handle, owned by `self`; the second call writes `code`.
        let ended = unsafe {
            WaitForSingleObject(process, INFINITE) == WAIT_OBJECT_0
                && GetExitCodeProcess(process, &mut code) != FALSE
        };
        WorkerExit::Code(if ended { code as i32 } else { -1 })
    }
}

/// How `send_signal` reaches a child: a process handle, which names it for as long as it is
/// open (a process's id is not reused while a handle to it is open).
#[derive(Debug)]
pub(crate) struct ProcessHandle(OwnedHandle);

/// Ends the process `target`. Windows has no signal that asks a console program to end, so
/// `Signal::Terminate` ends it at once too, as `Signal::Kill` does; its exit code is
/// `KILLED_BY_POOL`.
pub(crate) fn send_signal(target: &ProcessHandle, _signal: Signal) {
    terminate(target.0.as_raw_handle());
}

fn terminate(process: HANDLE) {
    // SAFETY: `TerminateProcess` has no memory-safety preconditions; the caller's handle
    // names its own child (an ended one is left as it is).
    unsafe { TerminateProcess(process, KILLED_BY_POOL) };
}

/// In a starting worker: takes the channel off standard input (`fd` is `CHILD_CHANNEL`), where
/// `spawn` put it, and makes it not inheritable, so that no child of the worker inherits it;
/// the standard input handle becomes `NUL`, so the worker's code reads nothing from stdin, as
/// before, and cannot read the channel through `std::io::stdin`. (The C runtime's descriptor 0,
/// set up before any of our code ran, still names the pipe: only C code reading it could
/// disturb the channel, and that ends in a corrupt frame, failing the task.)
pub(crate) fn take_channel(fd: i32) -> io::Result<Stream> {
    if fd != CHILD_CHANNEL {
        return Err(io::ErrorKind::InvalidInput.into());
    }
    // SAFETY: `GetStdHandle` has no preconditions; `owned` checks what it returns.
    let handle = unsafe { GetStdHandle(STD_INPUT_HANDLE) };
    // SAFETY: `CreateFileW` with a NUL-terminated name, no security attributes (not
    // inheritable) and no template; `owned` checks what it returns.
    let null = owned(
        unsafe {
            CreateFileW(
                windows_sys::w!("NUL"),
                GENERIC_READ,
                FILE_SHARE_READ | FILE_SHARE_WRITE,
                std::ptr::null(),
                OPEN_EXISTING,
                0,
                std::ptr::null_mut(),
            )
        },
        "CreateFileW of NUL",
    )?;
    let channel = owned(handle, "GetStdHandle")?;
    // SAFETY: a valid handle, which the pool created for this process alone; only its flags
    // change.
    if unsafe { SetHandleInformation(channel.as_raw_handle(), HANDLE_FLAG_INHERIT, 0) } == FALSE {
        return Err(failed("SetHandleInformation"));
    }
    // SAFETY: a valid handle becomes the standard input; the process's standard handles own
    // it from here on (it is never closed).
    if unsafe { SetStdHandle(STD_INPUT_HANDLE, null.as_raw_handle()) } == FALSE {
        return Err(failed("SetStdHandle"));
    }
    std::mem::forget(null);
    Stream::new(channel, Peer::new(false))
}

/// The id of this process's parent, as the system recorded it when this process started (the
/// process list of a Toolhelp snapshot); `0` if it does not say.
pub(crate) fn parent_id() -> u32 {
    // SAFETY: `CreateToolhelp32Snapshot` has no memory-safety preconditions; `owned` takes
    // the handle (or the error: it returns `INVALID_HANDLE_VALUE`).
    let Ok(snapshot) = owned(
        unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0) },
        "CreateToolhelp32Snapshot",
    ) else {
        return 0;
    };
    let mut entry = PROCESSENTRY32W {
        dwSize: size_of::<PROCESSENTRY32W>() as u32,
        ..PROCESSENTRY32W::default()
    };
    let me = std::process::id();
    // SAFETY: a valid snapshot handle and an entry whose `dwSize` is its size, as the call
    // requires; it writes the entry.
    let mut found = unsafe { Process32FirstW(snapshot.as_raw_handle(), &mut entry) };
    while found != FALSE {
        if entry.th32ProcessID == me {
            return entry.th32ParentProcessID;
        }
        // SAFETY: as above.
        found = unsafe { Process32NextW(snapshot.as_raw_handle(), &mut entry) };
    }
    0
}

/// In a starting worker: nothing to arm. The pool put the worker in its kill-on-close Job
/// Object as it started it, and the `ParentWatch` covers the moment before.
pub(crate) fn arm_parent_death() {}

/// Ends this process at once, with `code`, running no destructor and no exit handler.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: ending the current process (its pseudo-handle is always valid) has no
    // memory-safety preconditions; the call does not return.
    unsafe { TerminateProcess(GetCurrentProcess(), code as u32) };
    std::process::abort()
}

/// A region of shared memory for one large payload: an unnamed section backed by the paging
/// file (`CreateFileMappingW` with no file and no name), mapped whole. Having no name, it
/// cannot be opened by any other process: one reaches it only by taking a handle to it
/// (`Stream::handed_over`), which needs a handle to this process with `PROCESS_DUP_HANDLE`
/// (a worker's pool, or the worker of a pool). A section's size never changes, and every page
/// of a paging-file section is committed as it is made, so reading any byte of a view never
/// faults; a received region is checked to be committed over the bytes it claims (`open`).
#[derive(Debug)]
pub(crate) struct SharedMemory {
    section: OwnedHandle,
    /// Invariant: the start of a view of `section` of which `len` bytes are committed and
    /// readable (and writable when `writable`), unmapped only by `drop`.
    view: NonNull<u8>,
    len: usize,
    /// Whether the view is writable: a region this process made is; one it was handed is
    /// mapped for reading only (nothing writes those).
    writable: bool,
}

// SAFETY: the view is plain memory owned by this value (unmapped in `drop` only); it has no
// thread affinity. Shared references hand out `&[u8]` only; writing needs `&mut self`.
unsafe impl Send for SharedMemory {}
// SAFETY: as above: through `&self` the view is only read.
unsafe impl Sync for SharedMemory {}

impl SharedMemory {
    /// A new region of `len` bytes (at least one), zeroed and mapped.
    pub(crate) fn create(len: usize) -> io::Result<Self> {
        let len = len.max(1);
        let size = len as u64;
        // SAFETY: no file (`INVALID_HANDLE_VALUE`: the paging file backs it), no security
        // attributes (not inheritable), no name; `owned` takes the handle it returns (null on
        // failure).
        let section = unsafe {
            CreateFileMappingW(
                INVALID_HANDLE_VALUE,
                std::ptr::null(),
                PAGE_READWRITE,
                (size >> 32) as u32,
                size as u32,
                std::ptr::null(),
            )
        };
        let section = owned(section, "CreateFileMappingW")?;
        let mut memory = Self::map(section, FILE_MAP_READ | FILE_MAP_WRITE)?;
        if memory.len < len {
            return Err(io::Error::other("a new section is smaller than asked"));
        }
        memory.len = len;
        Ok(memory)
    }

    /// Maps the whole region another process handed over in `section`, for reading, after
    /// checking that it is one: a section (else the mapping fails) whose view is committed
    /// and readable over at least `len` bytes. Anything else (another kind of handle, a
    /// region smaller than it claims, reserved pages) is refused with what is wrong with it.
    pub(crate) fn open(section: OwnedHandle, len: usize) -> Result<Self, String> {
        let memory = Self::map(section, FILE_MAP_READ)
            .map_err(|error| format!("the payload's handle is not shared memory: {error}"))?;
        if memory.len < len || len == 0 {
            return Err(format!(
                "the payload claims {len} bytes of shared memory that holds {}",
                memory.len
            ));
        }
        Ok(memory)
    }

    /// Maps all of `section` with `access`; its length is what `VirtualQuery` finds
    /// committed and accessible from the view's start (a paging-file section: all of it,
    /// rounded up to a page).
    fn map(section: OwnedHandle, access: FILE_MAP) -> io::Result<Self> {
        // SAFETY: a new view, at an address of the system's choosing, of whatever `section`
        // names; the call fails unless it is a section that `access` may map. Nothing of
        // ours is touched.
        let view = unsafe { MapViewOfFile(section.as_raw_handle(), access, 0, 0, 0) };
        let Some(view) = NonNull::new(view.Value.cast::<u8>()) else {
            return Err(failed("MapViewOfFile"));
        };
        // Owned from here, so that an error below unmaps it; no byte is readable yet.
        let mut memory = Self {
            section,
            view,
            len: 0,
            writable: access & FILE_MAP_WRITE != 0,
        };
        let mut region = MEMORY_BASIC_INFORMATION::default();
        // SAFETY: the call writes at most the size given into `region`, a valid structure.
        let got = unsafe {
            VirtualQuery(
                view.as_ptr().cast(),
                &mut region,
                size_of::<MEMORY_BASIC_INFORMATION>(),
            )
        };
        if got == 0 {
            return Err(failed("VirtualQuery"));
        }
        // A section made with `SEC_RESERVE` has reserved pages that fault when read.
        if region.State != MEM_COMMIT || region.Protect & (PAGE_NOACCESS | PAGE_GUARD) != 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "its pages are not committed and readable",
            ));
        }
        // The region `VirtualQuery` describes lies within the view and has the same state
        // throughout: all of it is committed and readable (and writable with `access`).
        memory.len = region.RegionSize;
        Ok(memory)
    }

    /// How many bytes it holds.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// `None`: two handles of one section have no cheap common identity on Windows (the
    /// kernel object's address is not exposed), so each received payload is mapped anew
    /// (`shm::Mappings`).
    pub(crate) fn identity(&self) -> Option<(u64, u64)> {
        None
    }

    /// The bytes that hand this region over in a frame: the value of this process's handle to
    /// it, which the peer takes into its own (`Stream::handed_over`). This value stays valid
    /// while `self` lives: the protocol keeps a region alive until its peer has answered or
    /// released it (`shm.rs`).
    pub(crate) fn handover(&self) -> [u8; super::HANDOVER] {
        (self.section.as_raw_handle() as usize as u64).to_le_bytes()
    }

    /// Its bytes. Another process may hold the region too: what it writes while we read is
    /// read as it is, as bytes, which any value is (the codec then checks them); the protocol
    /// keeps one writer at a time (`process_pool/README.md`, "Large payloads").
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `view` starts `len` committed, readable bytes that live as long as `self`
        // (invariant on `view`); a section never shrinks and its pages are never decommitted
        // while mapped. `u8` has no invalid values.
        unsafe { std::slice::from_raw_parts(self.view.as_ptr(), self.len) }
    }

    /// Its bytes, to write a payload into: only a region this process made (`create`).
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        assert!(
            self.writable,
            "a received region is mapped for reading only"
        );
        // SAFETY: as in `bytes`, and the view is writable (checked above); `&mut self` makes
        // this the only reference into it in this process.
        unsafe { std::slice::from_raw_parts_mut(self.view.as_ptr(), self.len) }
    }
}

#[cfg(test)]
impl SharedMemory {
    /// In tests: a second handle of the section, as a peer would take it.
    pub(crate) fn handle_for_tests(&self) -> OwnedHandle {
        self.section.try_clone().unwrap()
    }
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        let view = MEMORY_MAPPED_VIEW_ADDRESS {
            Value: self.view.as_ptr().cast(),
        };
        // SAFETY: `view` is the start of the view made in `map` (invariant on `view`), and no
        // reference into it outlives `self`. The section's handle closes after this.
        unsafe { UnmapViewOfFile(view) };
    }
}

#[cfg(test)]
mod tests {
    use std::os::windows::io::AsHandle;
    use std::process::{Command, Stdio};

    use windows_sys::Win32::System::Memory::SEC_RESERVE;

    use super::*;

    fn handed_over(memory: &SharedMemory) -> OwnedHandle {
        memory.handle_for_tests()
    }

    #[test]
    fn only_a_committed_section_of_the_size_claimed_is_mapped() {
        let mut memory = SharedMemory::create(100).unwrap();
        memory.bytes_mut()[..3].copy_from_slice(b"abc");
        let mapped = SharedMemory::open(handed_over(&memory), 3).unwrap();
        assert_eq!(&mapped.bytes()[..3], b"abc");
        assert!(mapped.len() >= 100, "{}", mapped.len());
        let problem = SharedMemory::open(handed_over(&memory), mapped.len() + 1).unwrap_err();
        assert!(problem.contains("claims"), "{problem}");
        let problem = SharedMemory::open(handed_over(&memory), 0).unwrap_err();
        assert!(problem.contains("claims 0 bytes"), "{problem}");
        let (pipe, _other) = channel().unwrap();
        let not_memory = pipe.into_pipe().unwrap();
        let problem = SharedMemory::open(not_memory, 10).unwrap_err();
        assert!(problem.contains("not shared memory"), "{problem}");
    }

    #[test]
    fn a_section_of_reserved_pages_is_refused() {
        // SAFETY: as in `SharedMemory::create`, with `SEC_RESERVE`: nothing is committed.
        let section = unsafe {
            CreateFileMappingW(
                INVALID_HANDLE_VALUE,
                std::ptr::null(),
                PAGE_READWRITE | SEC_RESERVE,
                0,
                1 << 20,
                std::ptr::null(),
            )
        };
        let section = owned(section, "CreateFileMappingW").unwrap();
        let problem = SharedMemory::open(section, 10).unwrap_err();
        assert!(problem.contains("not committed"), "{problem}");
    }

    #[test]
    #[should_panic(expected = "reading only")]
    fn a_received_region_is_never_written() {
        let memory = SharedMemory::create(10).unwrap();
        let mut mapped = SharedMemory::open(handed_over(&memory), 10).unwrap();
        mapped.bytes_mut()[0] = 1;
    }

    #[test]
    fn a_handle_value_is_taken_from_the_peer_or_refused() {
        let (stream, _other) = channel().unwrap();
        let mut memory = SharedMemory::create(1000).unwrap();
        memory.bytes_mut()[..2].copy_from_slice(b"hi");
        let mut none = std::collections::VecDeque::new();
        let taken = stream.handed_over(memory.handover(), &mut none).unwrap();
        let mapped = SharedMemory::open(taken.unwrap(), 2).unwrap();
        assert_eq!(&mapped.bytes()[..2], b"hi");
        for garbage in [0u64, u64::MAX, 1 << 40, 0x7ff0] {
            let problem = stream
                .handed_over(garbage.to_le_bytes(), &mut none)
                .unwrap()
                .unwrap_err();
            assert!(problem.contains("handle"), "{garbage:#x}: {problem}");
        }
        // A worker's stream before its pool is known takes nothing.
        let (_ours, theirs) = channel().unwrap();
        let orphan = Stream::new(theirs.into_pipe().unwrap(), Peer::new(false)).unwrap();
        let problem = orphan
            .handed_over(memory.handover(), &mut none)
            .unwrap()
            .unwrap_err();
        assert!(problem.contains("could not be opened"), "{problem}");
    }

    /// A handle to a process that has ended: this test binary, run to list its tests.
    fn ended_process() -> OwnedHandle {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .arg("--list")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        child.wait().unwrap();
        child.as_handle().try_clone_to_owned().unwrap()
    }

    /// The peer's end of the pipe stays open here, as in a process that inherited a copy of
    /// it: the pipe never breaks, yet a peer whose process ended reads as the end of the
    /// stream once its last bytes are read, and a write it would have to read fails.
    #[test]
    fn a_peer_that_ended_reads_as_the_end_once_its_bytes_are_read() {
        let (ours, theirs) = channel().unwrap();
        let sent = theirs
            .write_vectored(&[IoSlice::new(b"last words")])
            .unwrap();
        assert_eq!(sent, 10);
        let _ = ours.peer.process.set(ended_process());
        let mut read = Vec::new();
        let mut buffer = [0u8; 4];
        loop {
            let n = ours.read(&mut buffer).unwrap();
            if n == 0 {
                break;
            }
            read.extend_from_slice(&buffer[..n]);
        }
        assert_eq!(read, b"last words");
        assert_eq!(ours.read(&mut buffer).unwrap(), 0, "and again");
        assert!(ours.poll_readable(Some(Duration::from_secs(60))).unwrap());
        // More than the pipe holds: the write waits for a reader, which is gone.
        let big = vec![7u8; 4 * PIPE_BUFFER as usize];
        let written = ours.write_vectored(&[IoSlice::new(&big)]);
        assert!(
            !matches!(written, Ok(n) if n == big.len()),
            "a write to a peer that ended returns without its reader: {written:?}"
        );
        drop(theirs);
    }

    #[test]
    fn a_handle_of_a_peer_that_ended_is_refused() {
        let (stream, _other) = channel().unwrap();
        let _ = stream.peer.process.set(ended_process());
        let memory = SharedMemory::create(10).unwrap();
        let mut none = std::collections::VecDeque::new();
        let problem = stream
            .handed_over(memory.handover(), &mut none)
            .unwrap()
            .unwrap_err();
        assert!(problem.contains("ended before"), "{problem}");
    }
}
