//! What only Linux has: a parent-death signal, a poll event for a peer that closed its end,
//! and the kernel's own limit on the slices of one vectored write. `unix.rs` has the plain
//! Unix stand-ins for other systems. Also the shared memory that large payloads travel in
//! (`SharedMemory`: a sealed `memfd`).

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;

/// The poll event of a peer closing its end, which Linux reports apart from data.
pub(super) const HANG_UP: libc::c_short = libc::POLLRDHUP;

/// The flags of each `sendmsg`: a peer that died fails the send with `EPIPE` rather than
/// raising `SIGPIPE`.
pub(super) const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;

/// The flags of each `recvmsg`: received descriptors are close-on-exec at once.
pub(super) const RECV_FLAGS: libc::c_int = libc::MSG_CMSG_CLOEXEC;

/// Nothing to set on a new socket: `SEND_FLAGS` does the work.
pub(super) fn prepare_socket(_fd: std::os::fd::RawFd) -> std::io::Result<()> {
    Ok(())
}

/// The most slices one `sendmsg` takes.
pub(super) const MAX_IOV: usize = libc::UIO_MAXIOV as usize;

/// Has the kernel kill this process (a worker) when the thread that started it ends, which
/// is the pool's driver thread, living as long as the pool's process.
pub(super) fn arm_parent_death() {
    // SAFETY: `prctl(PR_SET_PDEATHSIG, signal)` only sets this process's parent-death
    // signal; it touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
}

/// A region of shared memory for one large payload: an anonymous file (`memfd_create`),
/// mapped read-write. It has no path: another process reaches it only through a descriptor
/// this process hands over on a worker's channel (`SCM_RIGHTS`). Its size is sealed
/// (`F_SEAL_SHRINK`, `F_SEAL_GROW`, then `F_SEAL_SEAL`), so no process holding it can truncate
/// it under a mapping, which would make reading the mapping fault (`SIGBUS`).
#[derive(Debug)]
pub(crate) struct SharedMemory {
    fd: OwnedFd,
    /// Invariant: the start of a `MAP_SHARED` mapping of `len` bytes of `fd`, readable and
    /// writable, unmapped only by `drop`; `fd`'s size is at least `len` and cannot shrink.
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value (unmapped in `drop` only); it has
// no thread affinity. Shared references hand out `&[u8]` only; writing needs `&mut self`.
unsafe impl Send for SharedMemory {}
// SAFETY: as above: through `&self` the mapping is only read.
unsafe impl Sync for SharedMemory {}

/// The seals a region must carry before this process maps one it was handed: with them its
/// size cannot change, so reading any byte under its size never faults.
const SIZE_SEALS: libc::c_int = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW;

impl SharedMemory {
    /// A new region of `len` bytes (at least one), zeroed, sealed at that size and mapped.
    pub(crate) fn create(len: usize) -> io::Result<Self> {
        let len = len.max(1);
        let size = libc::off_t::try_from(len).map_err(|_| io::ErrorKind::InvalidInput)?;
        // SAFETY: the name is a valid NUL-terminated string that outlives the call.
        let fd = unsafe {
            libc::memfd_create(
                c"parallel-payload".as_ptr(),
                libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING,
            )
        };
        if fd == -1 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `memfd_create` just returned `fd`, which nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: `ftruncate` and `fcntl(F_ADD_SEALS)` act on our own descriptor; no memory.
        let sized = unsafe {
            libc::ftruncate(fd.as_raw_fd(), size) == 0
                && libc::fcntl(
                    fd.as_raw_fd(),
                    libc::F_ADD_SEALS,
                    SIZE_SEALS | libc::F_SEAL_SEAL,
                ) == 0
        };
        if !sized {
            return Err(io::Error::last_os_error());
        }
        Self::map(fd, len, 0)
    }

    /// Maps the whole region another process handed over in `fd`, after checking that it is one:
    /// an anonymous memory file (only those take seals) whose size is sealed and at least
    /// `len` bytes. Anything else (a socket, a pipe, a plain file, a region smaller than it
    /// claims, or one whose size may still change) is refused with what is wrong with it.
    pub(crate) fn open(fd: OwnedFd, len: usize) -> Result<Self, String> {
        // SAFETY: `fcntl(F_GET_SEALS)` only reads the seals of the file behind our descriptor.
        let seals = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
        if seals == -1 {
            return Err("the payload's descriptor is not shared memory".to_owned());
        }
        if seals & SIZE_SEALS != SIZE_SEALS {
            return Err("the payload's shared memory can still change its size".to_owned());
        }
        let size =
            file_size(&fd).map_err(|error| format!("the payload's shared memory: {error}"))?;
        if size < len as u64 || len == 0 {
            return Err(format!(
                "the payload claims {len} bytes of shared memory that holds {size}"
            ));
        }
        let size = usize::try_from(size)
            .map_err(|_| format!("the payload's shared memory of {size} bytes is too large"))?;
        // All of it, so that a later payload in the same region finds it mapped. Prefaulted:
        // the pages are resident already (the peer wrote them), and taking them all in one
        // call costs a fraction of a fault per page.
        Self::map(fd, size, libc::MAP_POPULATE)
            .map_err(|error| format!("could not map the payload's shared memory: {error}"))
    }

    /// Maps the first `len` bytes of `fd` (whose size is at least `len` and sealed).
    fn map(fd: OwnedFd, len: usize, flags: libc::c_int) -> io::Result<Self> {
        // SAFETY: a new mapping at an address of the kernel's choosing, of a file whose size
        // our callers checked is at least `len` and cannot shrink; nothing else is touched.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | flags,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast()).expect("mmap returns MAP_FAILED, never null");
        Ok(Self { fd, ptr, len })
    }

    /// How many bytes it holds.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Which file it is (device and inode): the same for every descriptor of one region
    /// while any of them, or a mapping, keeps it alive.
    pub(crate) fn identity(&self) -> Option<(u64, u64)> {
        identity(self.fd.as_fd())
    }

    /// The descriptor to hand to another process.
    pub(crate) fn descriptor(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Nothing: the descriptor travels beside the frame (`Stream::write_with`), not in it.
    pub(crate) fn handover(&self) -> [u8; super::HANDOVER] {
        []
    }

    /// Its bytes. Another process may hold the region too: what it writes while we read is
    /// read as it is, as bytes, which any value is (the codec then checks them); the protocol
    /// keeps one writer at a time (`process_pool/README.md`, "Large payloads").
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` starts `len` mapped, readable bytes that live as long as `self`
        // (invariant on `ptr`), and the size seal keeps every one of them backed. `u8` has no
        // invalid values.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// Its bytes, to write a payload into.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, and the mapping is writable; `&mut self` makes this the
        // only reference into it in this process.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for SharedMemory {
    fn drop(&mut self) {
        // SAFETY: `ptr` and `len` are the mapping made in `map` (invariant on `ptr`), and no
        // reference into it outlives `self`.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// The size of the file behind `fd`.
fn file_size(fd: &OwnedFd) -> io::Result<u64> {
    let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `fstat` writes a whole `stat` into the buffer we give it when it returns 0.
    if unsafe { libc::fstat(fd.as_raw_fd(), stat.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fstat` returned 0, so it initialised `stat`.
    let stat = unsafe { stat.assume_init() };
    Ok(u64::try_from(stat.st_size).unwrap_or(0))
}

/// The device and inode of the file behind `fd`.
pub(crate) fn identity(fd: BorrowedFd<'_>) -> Option<(u64, u64)> {
    let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `fstat` writes a whole `stat` into the buffer we give it when it returns 0.
    if unsafe { libc::fstat(fd.as_raw_fd(), stat.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: `fstat` returned 0, so it initialised `stat`.
    let stat = unsafe { stat.assume_init() };
    // Both are `u64` on 64-bit Linux, narrower on some 32-bit targets.
    #[allow(clippy::useless_conversion)]
    Some((u64::from(stat.st_dev), u64::from(stat.st_ino)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A memory file of `len` bytes with no seals, as a careless or hostile peer might send.
    fn unsealed(len: i64) -> OwnedFd {
        // SAFETY: a valid NUL-terminated name; the result is checked below.
        let fd = unsafe { libc::memfd_create(c"unsealed".as_ptr(), libc::MFD_CLOEXEC) };
        assert!(fd >= 0);
        // SAFETY: `memfd_create` just returned `fd`, which nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: `ftruncate` on our own descriptor.
        assert_eq!(unsafe { libc::ftruncate(fd.as_raw_fd(), len) }, 0);
        fd
    }

    #[test]
    fn only_sealed_shared_memory_of_the_size_claimed_is_mapped() {
        let problem = SharedMemory::open(unsealed(4096), 10).unwrap_err();
        assert!(problem.contains("change its size"), "{problem}");
        let file = std::fs::File::open("/proc/self/exe").unwrap();
        let problem = SharedMemory::open(file.into(), 10).unwrap_err();
        assert!(problem.contains("not shared memory"), "{problem}");
        let mut memory = SharedMemory::create(100).unwrap();
        memory.bytes_mut()[..3].copy_from_slice(b"abc");
        let peer = memory.descriptor().try_clone_to_owned().unwrap();
        let problem = SharedMemory::open(peer, 101).unwrap_err();
        assert!(problem.contains("claims 101 bytes"), "{problem}");
        let peer = memory.descriptor().try_clone_to_owned().unwrap();
        let mapped = SharedMemory::open(peer, 3).unwrap();
        assert_eq!(&mapped.bytes()[..3], b"abc");
        assert_eq!(mapped.identity(), memory.identity());
        // SAFETY: `ftruncate` on our own descriptor; the seals make it fail.
        let shrunk = unsafe { libc::ftruncate(memory.descriptor().as_raw_fd(), 1) };
        assert_eq!(shrunk, -1, "the size is sealed");
    }
}
