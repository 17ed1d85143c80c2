//! Frames between a pool and its worker processes, over the socket pair inherited at spawn.
//!
//! A frame is a 13-byte header, `kind: u8`, `id: u64` (little-endian), `len: u32`
//! (little-endian), then `len` bytes of payload. A frame longer than the channel's limit is
//! refused before anything is allocated for it, so a corrupt length cannot exhaust memory.

use std::io::{self, IoSlice, Read};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use crate::error::TaskError;
use crate::spin::{spin_until, SPIN_FOR};

/// Frame kinds.
pub(crate) mod kind {
    /// Pool → worker: run a registered function. Payload: `call: u8`, `name_len: u16`,
    /// the name, then the encoded input.
    pub(crate) const TASK: u8 = 1;
    /// Worker → pool: started, initializer done.
    pub(crate) const READY: u8 = 2;
    /// Worker → pool: the initializer failed. Payload: the message.
    pub(crate) const INIT_FAILED: u8 = 3;
    /// Worker → pool: the task's encoded output.
    pub(crate) const DONE: u8 = 4;
    /// Worker → pool: the task panicked. Payload: see [`panicked`](super::panicked).
    pub(crate) const PANICKED: u8 = 5;
    /// Worker → pool: input could not be decoded or output encoded. Payload: the message.
    pub(crate) const CODEC: u8 = 6;
    /// Worker → pool: no function has the task's name. Payload: the name.
    pub(crate) const UNKNOWN: u8 = 7;
}

const HEADER: usize = 13;

/// One frame, its payload owned.
#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) kind: u8,
    pub(crate) id: u64,
    pub(crate) payload: Vec<u8>,
}

/// Why no frame arrived.
#[derive(Debug)]
pub(crate) enum RecvError {
    /// The peer closed the channel at a frame boundary.
    Closed,
    /// The peer closed the channel in the middle of a frame.
    Truncated,
    /// The deadline passed first.
    TimedOut,
    /// The frame's header is not one a peer would send (an unknown kind or a length over the
    /// limit): the stream cannot be trusted any further.
    Corrupt(String),
    /// Reading failed: the channel is broken.
    Io,
}

/// One end of the socket pair, with a read buffer.
pub(crate) struct Channel {
    stream: UnixStream,
    /// Bytes read and not yet consumed: `buffer[start..end]`. The whole buffer stays
    /// initialised (zeroed once), so a read goes straight into `buffer[end..]`: resizing it
    /// before each read zeroed up to 64 KiB every time.
    buffer: Vec<u8>,
    start: usize,
    end: usize,
    max_frame: usize,
    /// A large payload handed back with `recycle`, whose memory the next large payload
    /// reuses. Empty (no allocation) until then.
    spare: Vec<u8>,
}

/// How much the read buffer holds; larger payloads are read straight into their own `Vec`.
const BUFFER: usize = 64 << 10;

/// The largest payload buffer a channel keeps for reuse (see `recycle`).
const SPARE_LIMIT: usize = 64 << 20;

impl Channel {
    pub(crate) fn new(stream: UnixStream, max_frame: usize) -> Self {
        Self {
            stream,
            buffer: vec![0; BUFFER],
            start: 0,
            end: 0,
            max_frame,
            spare: Vec::new(),
        }
    }

    /// Hands back a received payload that is no longer needed, so that the next large
    /// payload is read into its memory. Freshly allocated memory costs a page fault per
    /// 4 KiB page on first touch, which made receiving a large frame take several times
    /// as long as copying it through the socket. A channel keeps one such buffer, of at
    /// most `SPARE_LIMIT` bytes.
    pub(crate) fn recycle(&mut self, payload: Vec<u8>) {
        let capacity = payload.capacity();
        if capacity > BUFFER && capacity <= SPARE_LIMIT && capacity > self.spare.capacity() {
            self.spare = payload;
        }
    }

    /// The largest payload this channel sends or accepts.
    pub(crate) fn max_frame(&self) -> usize {
        self.max_frame
    }

    pub(crate) fn raw_fd(&self) -> i32 {
        self.stream.as_raw_fd()
    }

    /// Closes the sending direction: the peer reads end-of-stream after what was sent.
    pub(crate) fn close(&self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Write);
    }

    /// Sends one frame whose payload is the concatenation of `parts`.
    pub(crate) fn send(&mut self, kind: u8, id: u64, parts: &[&[u8]]) -> io::Result<()> {
        let len: usize = parts.iter().map(|part| part.len()).sum();
        let len = u32::try_from(len)
            .ok()
            .filter(|&len| len as usize <= self.max_frame)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "a frame of {len} bytes exceeds the limit of {} bytes",
                        self.max_frame
                    ),
                )
            })?;
        let mut header = [0u8; HEADER];
        header[0] = kind;
        header[1..9].copy_from_slice(&id.to_le_bytes());
        header[9..13].copy_from_slice(&len.to_le_bytes());
        let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(parts.len() + 1);
        slices.push(IoSlice::new(&header));
        slices.extend(
            parts
                .iter()
                .filter(|part| !part.is_empty())
                .map(|part| IoSlice::new(part)),
        );
        write_all_vectored(&mut self.stream, &mut slices)
    }

    /// Receives one frame, waiting until `deadline` (forever if `None`).
    pub(crate) fn recv(&mut self, deadline: Option<Instant>) -> Result<Frame, RecvError> {
        self.fill_to(HEADER, deadline)?;
        let header = &self.buffer[self.start..self.start + HEADER];
        let kind = header[0];
        let id = u64::from_le_bytes(header[1..9].try_into().expect("eight bytes"));
        let len = u32::from_le_bytes(header[9..13].try_into().expect("four bytes")) as usize;
        if !(kind::TASK..=kind::UNKNOWN).contains(&kind) {
            return Err(RecvError::Corrupt(format!(
                "a frame of unknown kind {kind}"
            )));
        }
        if len > self.max_frame {
            return Err(RecvError::Corrupt(format!(
                "a frame of {len} bytes exceeds the limit of {} bytes",
                self.max_frame
            )));
        }
        self.start += HEADER;
        let payload = self.take_payload(len, deadline)?;
        Ok(Frame { kind, id, payload })
    }

    /// The next `len` bytes as an owned `Vec`: copied from the buffer when they fit in it,
    /// otherwise read directly into a `Vec` of exactly `len` bytes.
    fn take_payload(
        &mut self,
        len: usize,
        deadline: Option<Instant>,
    ) -> Result<Vec<u8>, RecvError> {
        if len <= BUFFER {
            self.fill_to(len, deadline)?;
            let payload = self.buffer[self.start..self.start + len].to_vec();
            self.start += len;
            return Ok(payload);
        }
        // Zeroed once (for a large `len`, pages the allocator maps already zeroed; in a
        // recycled buffer, only what its earlier contents do not cover), then filled in
        // place: zeroing what is left before each read made a large frame cost time
        // quadratic in its size.
        let mut payload = if self.spare.capacity() >= len {
            let mut spare = std::mem::take(&mut self.spare);
            spare.truncate(len);
            spare.resize(len, 0);
            spare
        } else {
            vec![0; len]
        };
        let buffered = self.end - self.start;
        payload[..buffered].copy_from_slice(&self.buffer[self.start..self.end]);
        self.start = 0;
        self.end = 0;
        let mut filled = buffered;
        while filled < len {
            self.wait_readable(deadline)?;
            match self.stream.read(&mut payload[filled..]) {
                Ok(0) => return Err(RecvError::Truncated),
                Ok(read) => filled += read,
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
                    ) => {}
                Err(_) => return Err(RecvError::Io),
            }
        }
        Ok(payload)
    }

    /// Reads until at least `want` unconsumed bytes are buffered.
    fn fill_to(&mut self, want: usize, deadline: Option<Instant>) -> Result<(), RecvError> {
        while self.end - self.start < want {
            if self.start > 0 {
                self.buffer.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.buffer.len() < want {
                self.buffer.resize(want, 0);
            }
            self.wait_readable(deadline)?;
            match self.stream.read(&mut self.buffer[self.end..]) {
                Ok(0) => {
                    return Err(if self.end == 0 {
                        RecvError::Closed
                    } else {
                        RecvError::Truncated
                    });
                }
                Ok(read) => self.end += read,
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
                    ) => {}
                Err(_) => return Err(RecvError::Io),
            }
        }
        Ok(())
    }

    /// Waits until the socket has bytes (or end-of-stream) to read: polls briefly without
    /// blocking (see `spin`), then sleeps in `poll` until `deadline`.
    fn wait_readable(&self, deadline: Option<Instant>) -> Result<(), RecvError> {
        let fd = self.raw_fd();
        let limit = match deadline {
            Some(deadline) => SPIN_FOR.min(deadline.saturating_duration_since(Instant::now())),
            None => SPIN_FOR,
        };
        if spin_until(limit, || {
            poll_readable(fd, Some(Duration::ZERO)).unwrap_or(true)
        }) {
            return Ok(());
        }
        loop {
            let timeout =
                deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
            match poll_readable(fd, timeout) {
                Ok(true) => return Ok(()),
                Ok(false) if timeout.is_some_and(|left| left.is_zero()) => {
                    return Err(RecvError::TimedOut)
                }
                Ok(false) => {}
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(RecvError::Io),
            }
        }
    }
}

/// Whether `fd` is readable (data, end-of-stream or an error), waiting up to `timeout`
/// (forever if `None`). `Ok(false)` when the time ran out.
pub(crate) fn poll_readable(fd: i32, timeout: Option<Duration>) -> io::Result<bool> {
    let mut poll = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = match timeout {
        None => -1,
        Some(timeout) => i32::try_from(timeout.as_millis().max(u128::from(!timeout.is_zero())))
            .unwrap_or(i32::MAX),
    };
    // SAFETY: `poll` is given one valid, initialised `pollfd` that outlives the call, and the
    // count 1; it writes only `revents`.
    let ready = unsafe { libc::poll(&mut poll, 1, millis) };
    match ready {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(false),
        _ => Ok(true),
    }
}

/// `write_all` over several buffers without copying them together. Writes with
/// `MSG_NOSIGNAL`: a worker that died makes the write fail with `EPIPE` instead of raising
/// `SIGPIPE`, which would kill the pool's process in a host that does not ignore it.
fn write_all_vectored(stream: &mut UnixStream, mut slices: &mut [IoSlice<'_>]) -> io::Result<()> {
    while !slices.is_empty() {
        match send_vectored(stream.as_raw_fd(), slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(written) => IoSlice::advance_slices(&mut slices, written),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// One `sendmsg` of `slices` on the socket `fd`, with `MSG_NOSIGNAL`.
fn send_vectored(fd: i32, slices: &[IoSlice<'_>]) -> io::Result<usize> {
    // SAFETY: an all-zero `msghdr` is valid (no name, no control data).
    let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
    // `IoSlice` is guaranteed ABI-compatible with `iovec` on Unix.
    message.msg_iov = slices.as_ptr() as *mut libc::iovec;
    message.msg_iovlen = slices.len().min(libc::UIO_MAXIOV as usize) as _;
    // SAFETY: `message` points at `msg_iovlen` valid `iovec`s borrowed from `slices`, which
    // outlive the call; `sendmsg` only reads them.
    let sent = unsafe { libc::sendmsg(fd, &message, libc::MSG_NOSIGNAL) };
    if sent < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(sent as usize)
    }
}

/// The payload of a `PANICKED` reply: `location_len: u32` (little-endian), the location
/// (`file:line:column`, empty when unknown), then the message.
pub(crate) fn panicked(message: &str, location: Option<&str>) -> Vec<u8> {
    let location = location.unwrap_or("");
    let mut payload = Vec::with_capacity(4 + location.len() + message.len());
    payload.extend_from_slice(&(location.len() as u32).to_le_bytes());
    payload.extend_from_slice(location.as_bytes());
    payload.extend_from_slice(message.as_bytes());
    payload
}

/// The message and location of a `PANICKED` payload (a malformed one is all message).
fn parse_panicked(payload: &[u8]) -> (String, Option<String>) {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let parts = payload
        .split_first_chunk::<4>()
        .and_then(|(len, rest)| rest.split_at_checked(u32::from_le_bytes(*len) as usize));
    match parts {
        Some((location, message)) => {
            let location = (!location.is_empty()).then(|| text(location));
            (text(message), location)
        }
        None => (text(payload), None),
    }
}

/// The outcome that a reply frame of `kind` carries, from the worker process `pid`.
pub(crate) fn reply(kind: u8, payload: Vec<u8>, pid: u32) -> Result<(Vec<u8>, u32), TaskError> {
    let text = || String::from_utf8_lossy(&payload).into_owned();
    match kind {
        kind::DONE => Ok((payload, pid)),
        kind::PANICKED => {
            let (message, location) = parse_panicked(&payload);
            Err(TaskError::panicked_at(message, location, Some(pid)))
        }
        kind::CODEC => Err(TaskError::codec(text())),
        kind::UNKNOWN => Err(TaskError::codec(format!(
            "the worker process has no function registered as `{}`",
            text()
        ))),
        other => Err(TaskError::codec(format!(
            "the worker sent a frame of kind {other} as a reply"
        ))),
    }
}

/// The payload of a `TASK` frame, split into its parts.
pub(crate) struct TaskPayload<'a> {
    pub(crate) call: u8,
    pub(crate) name: &'a str,
    pub(crate) input: &'a [u8],
}

impl<'a> TaskPayload<'a> {
    /// The header parts of a task payload (the input follows them).
    pub(crate) fn header(call: u8, name: &str) -> Vec<u8> {
        let mut header = Vec::with_capacity(3 + name.len());
        header.push(call);
        header.extend_from_slice(&(name.len() as u16).to_le_bytes());
        header.extend_from_slice(name.as_bytes());
        header
    }

    /// Splits a task payload; `None` if it is malformed.
    pub(crate) fn parse(payload: &'a [u8]) -> Option<Self> {
        let (&call, rest) = payload.split_first()?;
        let (len, rest) = rest.split_at_checked(2)?;
        let len = u16::from_le_bytes([len[0], len[1]]) as usize;
        let (name, input) = rest.split_at_checked(len)?;
        Some(Self {
            call,
            name: std::str::from_utf8(name).ok()?,
            input,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn pair(max_frame: usize) -> (Channel, Channel) {
        let (a, b) = UnixStream::pair().unwrap();
        (Channel::new(a, max_frame), Channel::new(b, max_frame))
    }

    #[test]
    fn frames_arrive_whole_and_in_order() {
        let (mut a, mut b) = pair(1 << 30);
        a.send(kind::DONE, 7, &[b"hello", b" ", b"world"]).unwrap();
        a.send(kind::READY, 8, &[]).unwrap();
        let first = b.recv(None).unwrap();
        assert_eq!(
            (first.kind, first.id, first.payload.as_slice()),
            (kind::DONE, 7, &b"hello world"[..])
        );
        let second = b.recv(None).unwrap();
        assert_eq!(
            (second.kind, second.id, second.payload.len()),
            (kind::READY, 8, 0)
        );
    }

    #[test]
    fn a_large_payload_is_read_whole() {
        let (mut a, mut b) = pair(1 << 30);
        let big: Vec<u8> = (0..3_000_000u32).map(|i| i as u8).collect();
        let sender = std::thread::spawn(move || a.send(kind::DONE, 1, &[&big]).map(|()| big));
        let frame = b.recv(None).unwrap();
        let big = sender.join().unwrap().unwrap();
        assert_eq!(frame.payload, big);
    }

    #[test]
    fn a_recycled_buffer_is_reused_and_carries_nothing_over() {
        let (mut a, mut b) = pair(1 << 30);
        let sender = std::thread::spawn(move || {
            a.send(kind::DONE, 1, &[&vec![0xAA; 3_000_000]]).unwrap();
            a.send(kind::DONE, 2, &[&vec![0x55; 2_000_000]]).unwrap();
            a.send(kind::DONE, 3, &[&vec![0x11; 2_500_000]]).unwrap();
            a
        });
        let first = b.recv(None).unwrap();
        let address = first.payload.as_ptr();
        b.recycle(first.payload);
        let second = b.recv(None).unwrap();
        assert_eq!(
            second.payload.as_ptr(),
            address,
            "read into the recycled buffer"
        );
        assert_eq!(second.payload, vec![0x55; 2_000_000]);
        b.recycle(second.payload);
        let third = b.recv(None).unwrap();
        assert_eq!(third.payload, vec![0x11; 2_500_000]);
        b.recycle(third.payload);
        // A frame cut short is still `Truncated` when read into a recycled buffer.
        let a = sender.join().unwrap();
        let mut header = [0u8; HEADER];
        header[0] = kind::DONE;
        header[9..13].copy_from_slice(&1_000_000u32.to_le_bytes());
        (&a.stream).write_all(&header).unwrap();
        (&a.stream).write_all(&[1; 1000]).unwrap();
        drop(a);
        assert!(matches!(b.recv(None), Err(RecvError::Truncated)));
    }

    #[test]
    fn an_oversized_length_is_refused_before_allocating() {
        let (a, mut b) = pair(1024);
        let mut header = [0u8; HEADER];
        header[0] = kind::DONE;
        header[9..13].copy_from_slice(&u32::MAX.to_le_bytes());
        (&a.stream).write_all(&header).unwrap();
        assert!(
            matches!(b.recv(None), Err(RecvError::Corrupt(message)) if message.contains("exceeds the limit"))
        );
    }

    #[test]
    fn an_unknown_kind_is_corrupt() {
        let (a, mut b) = pair(1024);
        (&a.stream).write_all(&[99; HEADER]).unwrap();
        assert!(matches!(b.recv(None), Err(RecvError::Corrupt(_))));
    }

    #[test]
    fn a_frame_cut_short_is_truncated_and_a_clean_end_is_closed() {
        let (a, mut b) = pair(1024);
        let mut header = [0u8; HEADER];
        header[0] = kind::DONE;
        header[9..13].copy_from_slice(&10u32.to_le_bytes());
        (&a.stream).write_all(&header).unwrap();
        (&a.stream).write_all(b"abc").unwrap();
        drop(a);
        assert!(matches!(b.recv(None), Err(RecvError::Truncated)));
        let (a, mut b) = pair(1024);
        drop(a);
        assert!(matches!(b.recv(None), Err(RecvError::Closed)));
    }

    #[test]
    fn recv_times_out() {
        let (_a, mut b) = pair(1024);
        let deadline = Instant::now() + Duration::from_millis(50);
        assert!(matches!(b.recv(Some(deadline)), Err(RecvError::TimedOut)));
    }

    #[test]
    fn a_panic_reply_carries_message_location_and_process() {
        let payload = panicked("bad input", Some("src/lib.rs:3:9"));
        assert_eq!(
            reply(kind::PANICKED, payload, 77),
            Err(TaskError::panicked_at(
                "bad input".into(),
                Some("src/lib.rs:3:9".into()),
                Some(77)
            ))
        );
        let unknown_place = panicked("boom", None);
        assert_eq!(
            reply(kind::PANICKED, unknown_place, 1),
            Err(TaskError::panicked_at("boom".into(), None, Some(1)))
        );
        // Too short for its own length: read as a message, not trusted.
        let garbled = reply(kind::PANICKED, vec![200, 0, 0, 0, b'x'], 1).unwrap_err();
        assert!(garbled.is_panicked());
    }

    #[test]
    fn task_payloads_round_trip_and_malformed_ones_are_refused() {
        let mut payload = TaskPayload::header(1, "crate::square#u64");
        payload.extend_from_slice(&[9, 9]);
        let task = TaskPayload::parse(&payload).unwrap();
        assert_eq!(
            (task.call, task.name, task.input),
            (1, "crate::square#u64", &[9u8, 9][..])
        );
        assert!(TaskPayload::parse(&[1, 200, 0, b'x']).is_none());
        assert!(TaskPayload::parse(&[]).is_none());
    }
}
