//! Every MPI call the crate makes, behind small types that say nothing of MPI's C interface:
//! a `Comm` (a communicator: rank, size, sends and receives of bytes), a `Sending` (a
//! non-blocking send in progress, owning its buffer) and an `Incoming` (a message probed but
//! not yet received). Nothing else in the crate calls MPI, and nothing here knows what the
//! bytes mean (`wire.rs` does).
//!
//! MPI's errors are fatal on the communicators used here (`MPI_ERRORS_ARE_FATAL`, the default
//! handler of `MPI_COMM_WORLD`, which a duplicate inherits): a failing call ends the job
//! before it returns, so return codes carry nothing to act on and are not read.
//!
//! Every message is bytes (`MPI_UINT8_T`), at most `i32::MAX` of them (MPI's counts are C
//! ints): `wire.rs` splits what is longer.
//!
//! A `Comm` holds a raw handle, so it is neither `Send` nor `Sync`: whoever uses one made it on
//! its own thread (`Comm::world`, `Comm::duplicate`), as OpenMPI's handles require.

use std::os::raw::c_int;
use std::sync::Arc;

use mpi::ffi;

/// The tag of every message from the root to a worker rank.
pub(crate) const TO_WORKER: c_int = 7001;
/// The tag of every message from a worker rank to the root.
pub(crate) const TO_ROOT: c_int = 7002;

/// A communicator: `MPI_COMM_WORLD`, or a duplicate of it that `free` releases.
pub(crate) struct Comm {
    raw: ffi::MPI_Comm,
    /// Whether `raw` is a duplicate this process must free (the world is never freed).
    owned: bool,
}

impl Comm {
    /// `MPI_COMM_WORLD`. Call only while MPI is initialised and not finalised.
    pub(crate) fn world() -> Self {
        // SAFETY: reading an extern constant that rsmpi's C shim initialises statically.
        let raw = unsafe { ffi::RSMPI_COMM_WORLD };
        Self { raw, owned: false }
    }

    /// A duplicate of this communicator (`MPI_Comm_dup`): the same ranks, but messages on it
    /// never match the program's own on the original. Collective: every rank must call it.
    pub(crate) fn duplicate(&self) -> Self {
        // SAFETY: a null handle is a valid place for `MPI_Comm_dup` to write its result.
        let mut raw: ffi::MPI_Comm = unsafe { std::mem::zeroed() };
        // SAFETY: `self.raw` is a live communicator (invariant of `Comm`) and `raw` a valid
        // out-pointer.
        unsafe { ffi::MPI_Comm_dup(self.raw, &mut raw) };
        Self { raw, owned: true }
    }

    /// This process's rank.
    pub(crate) fn rank(&self) -> i32 {
        let mut rank = 0;
        // SAFETY: a live communicator and a valid out-pointer.
        unsafe { ffi::MPI_Comm_rank(self.raw, &mut rank) };
        rank
    }

    /// The number of ranks.
    pub(crate) fn size(&self) -> i32 {
        let mut size = 0;
        // SAFETY: a live communicator and a valid out-pointer.
        unsafe { ffi::MPI_Comm_size(self.raw, &mut size) };
        size
    }

    /// Starts sending `buffer[range]` for each range of `parts` to `rank`, as one message
    /// each, in order, without waiting. The returned `Sending` keeps the buffer alive until
    /// every part has gone.
    pub(crate) fn send_later(
        &self,
        buffer: Arc<Vec<u8>>,
        parts: impl Iterator<Item = std::ops::Range<usize>>,
        rank: i32,
        tag: c_int,
    ) -> Sending {
        let requests = parts
            // SAFETY: each part lies in `buffer`, which the returned `Sending` owns until its
            // requests complete (`Sending::is_done`, or its `Drop`, which waits).
            .map(|part| unsafe { self.start_send(&buffer[part], rank, tag) })
            .collect();
        Sending {
            requests,
            _buffer: buffer,
        }
    }

    /// Sends `bytes` to `rank` as one message, returning when the buffer may be reused.
    pub(crate) fn send(&self, bytes: &[u8], rank: i32, tag: c_int) {
        // SAFETY: `bytes` outlives the request: it is waited for before this returns.
        let mut request = unsafe { self.start_send(bytes, rank, tag) };
        // SAFETY: a live request, which `MPI_Wait` completes and sets to null.
        unsafe { ffi::MPI_Wait(&mut request, ffi::RSMPI_STATUS_IGNORE) };
    }

    /// Starts sending `bytes` to `rank` on `tag` (`MPI_Isend`).
    ///
    /// # Safety
    ///
    /// `bytes` must stay valid, and unchanged, until the returned request completes.
    unsafe fn start_send(&self, bytes: &[u8], rank: i32, tag: c_int) -> ffi::MPI_Request {
        // SAFETY: `MPI_REQUEST_NULL` is a valid value to overwrite.
        let mut request = unsafe { ffi::RSMPI_REQUEST_NULL };
        // SAFETY: `bytes` stays valid until the request completes (our caller's promise); the
        // count fits a C int (`wire.rs` splits larger messages); the handle is live.
        unsafe {
            ffi::MPI_Isend(
                bytes.as_ptr().cast(),
                count(bytes.len()),
                ffi::RSMPI_UINT8_T,
                rank,
                tag,
                self.raw,
                &mut request,
            )
        };
        request
    }

    /// A message with `tag` from any rank, if one has arrived (`MPI_Improbe`): it is then
    /// this caller's alone to receive.
    pub(crate) fn poll(&self, tag: c_int) -> Option<Incoming> {
        let mut flag = 0;
        // SAFETY: null handles and an all-zero status are valid out-values.
        let (mut message, mut status) = unsafe { (ffi::RSMPI_MESSAGE_NULL, std::mem::zeroed()) };
        // SAFETY: a live communicator and valid out-pointers.
        unsafe {
            ffi::MPI_Improbe(
                ffi::RSMPI_ANY_SOURCE,
                tag,
                self.raw,
                &mut flag,
                &mut message,
                &mut status,
            )
        };
        (flag != 0).then(|| Incoming::new(message, &status))
    }

    /// Waits for the next message with `tag` from `rank` (`MPI_Mprobe`).
    pub(crate) fn wait_from(&self, rank: i32, tag: c_int) -> Incoming {
        // SAFETY: null handles and an all-zero status are valid out-values.
        let (mut message, mut status) = unsafe { (ffi::RSMPI_MESSAGE_NULL, std::mem::zeroed()) };
        // SAFETY: a live communicator and valid out-pointers.
        unsafe { ffi::MPI_Mprobe(rank, tag, self.raw, &mut message, &mut status) };
        Incoming::new(message, &status)
    }

    /// Releases a duplicate (`MPI_Comm_free`); the world is left as it is.
    pub(crate) fn free(mut self) {
        if self.owned {
            // SAFETY: a duplicate this process made and has not freed; nothing uses it after.
            unsafe { ffi::MPI_Comm_free(&mut self.raw) };
        }
    }
}

/// A message that `Comm::poll` or `Comm::wait_from` matched, not yet received.
pub(crate) struct Incoming {
    message: ffi::MPI_Message,
    /// The rank that sent it.
    pub(crate) source: i32,
    /// Its length in bytes.
    pub(crate) len: usize,
}

impl Incoming {
    fn new(message: ffi::MPI_Message, status: &ffi::MPI_Status) -> Self {
        let mut len = 0;
        // SAFETY: `status` was filled by a probe; the datatype is a predefined one.
        unsafe { ffi::MPI_Get_count(status, ffi::RSMPI_UINT8_T, &mut len) };
        Self {
            message,
            source: status.MPI_SOURCE,
            len: usize::try_from(len).unwrap_or(0),
        }
    }

    /// Receives the message (`MPI_Mrecv`), appending its bytes to `into` (straight into its
    /// spare capacity: no zeroing first).
    pub(crate) fn receive_into(mut self, into: &mut Vec<u8>) {
        into.reserve(self.len);
        let spare = into.spare_capacity_mut();
        // SAFETY: `spare` is valid for writes of at least `len` bytes (reserved above), the
        // probed message's length; `message` came from a probe and is received once (this
        // consumes `self`); MPI writes exactly `len` bytes of a message of that length.
        unsafe {
            ffi::MPI_Mrecv(
                spare.as_mut_ptr().cast(),
                count(self.len),
                ffi::RSMPI_UINT8_T,
                &mut self.message,
                ffi::RSMPI_STATUS_IGNORE,
            );
            // SAFETY: the receive above initialised the `len` bytes after the old length.
            into.set_len(into.len() + self.len);
        }
    }
}

/// Sends started by `Comm::send_later`, with the buffer they read from.
pub(crate) struct Sending {
    /// Invariant: each is a live request or `MPI_REQUEST_NULL` (completed).
    requests: Vec<ffi::MPI_Request>,
    _buffer: Arc<Vec<u8>>,
}

impl Sending {
    /// Whether every part has gone (`MPI_Test`); the buffer may then be dropped.
    pub(crate) fn is_done(&mut self) -> bool {
        self.requests.iter_mut().all(|request| {
            let mut flag = 0;
            // SAFETY: `request` is live or null (invariant); `MPI_Test` sets a completed one to
            // null, and testing a null request reports it complete.
            unsafe { ffi::MPI_Test(request, &mut flag, ffi::RSMPI_STATUS_IGNORE) };
            flag != 0
        })
    }
}

impl Drop for Sending {
    /// Waits for the parts still going, so the buffer outlives every request that reads it.
    fn drop(&mut self) {
        for request in &mut self.requests {
            // SAFETY: `request` is live or null (invariant); waiting on a null one returns
            // at once.
            unsafe { ffi::MPI_Wait(request, ffi::RSMPI_STATUS_IGNORE) };
        }
    }
}

/// MPI's count for a message of `len` bytes. `wire.rs` never asks for more than `i32::MAX`.
fn count(len: usize) -> c_int {
    c_int::try_from(len).expect("a message part is at most i32::MAX bytes (wire.rs splits)")
}

/// The threading level MPI was initialised with is at least `MPI_THREAD_SERIALIZED`: any
/// thread may call MPI, one at a time.
pub(crate) fn is_serialized_or_more() -> bool {
    mpi::environment::threading_support() >= mpi::Threading::Serialized
}

/// Ends every rank of the job at once, with `code` (`MPI_Abort`): for a worker rank that can
/// no longer follow the protocol.
pub(crate) fn abort(code: c_int) -> ! {
    // SAFETY: aborting has no memory-safety preconditions; MPI is initialised here.
    unsafe { ffi::MPI_Abort(Comm::world().raw, code) };
    std::process::abort()
}
