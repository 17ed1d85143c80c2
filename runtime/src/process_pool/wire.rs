//! What passes between a pool and its worker processes: frames over the channel made at
//! spawn (`Channel`), and what every frame holds, in both directions. Nothing else builds or
//! parses a frame: the pool sends a `Task` and reads its reply (`Frame::reply`) or a worker's
//! start (`Channel::recv_start`); a worker reads a `Task` and sends an `Answer`.
//!
//! A frame is a 13-byte header, `kind: u8`, `id: u64` (little-endian), `len: u32`
//! (little-endian), then `len` bytes of payload. A frame longer than the channel's limit is
//! refused before anything is allocated for it, so a corrupt length cannot exhaust memory.
//!
//! A payload over `shm::THRESHOLD` travels in shared memory where the system has it: the
//! frame (`TASK_SHARED`, `DONE_SHARED`) holds its length, then the region's handover bytes
//! (`os::HANDOVER`: none on Unix, where the descriptor goes with the frame's first byte,
//! `SCM_RIGHTS`; on Windows the sender's handle value, which the reader takes from the
//! sender's process), and the reader maps it (`shm::Mappings`). A region that is no shared
//! memory (on Linux, not sealed; on Windows, a handle value that names nothing of the peer's),
//! or smaller than its frame says, fails that task with `Codec`; the stream goes on.

use std::collections::VecDeque;

use std::io::{self, IoSlice};
use std::time::{Duration, Instant};

use super::os::{self, Descriptor, ParentWatch, SharedMemory, Stream};
use super::registry::Call;
use super::shm::{Mapped, Mappings, ResultRegions, THRESHOLD};
use crate::error::TaskError;
use crate::spin::{spin_until, SPIN_FOR};

/// Frame kinds.
mod kind {
    /// Pool → worker: run a registered function. Payload: see [`Task`](super::Task).
    pub(super) const TASK: u8 = 1;
    /// Worker → pool: started, initializer done.
    pub(super) const READY: u8 = 2;
    /// Worker → pool: the initializer failed. Payload: the message.
    pub(super) const INIT_FAILED: u8 = 3;
    /// Worker → pool: the task's encoded output.
    pub(super) const DONE: u8 = 4;
    /// Worker → pool: the task panicked. Payload: see [`panicked`](super::panicked).
    pub(super) const PANICKED: u8 = 5;
    /// Worker → pool: input could not be decoded or output encoded. Payload: the message.
    pub(super) const CODEC: u8 = 6;
    /// Worker → pool: no function has the task's name. Payload: the name.
    pub(super) const UNKNOWN: u8 = 7;
    /// Pool → worker: a task whose input is in shared memory. Payload: `len: u64`, the
    /// region's handover bytes (`os::HANDOVER`), then a task's payload with no input; on
    /// Unix the region's descriptor comes with the frame.
    pub(super) const TASK_SHARED: u8 = 8;
    /// Worker → pool: the task's encoded output, in shared memory. Payload: `len: u64`, then
    /// the region's handover bytes; on Unix the region's descriptor comes with the frame.
    pub(super) const DONE_SHARED: u8 = 9;
    /// Pool → worker: the pool has read the result of task `id` (a `DONE_SHARED`), whose
    /// region the worker may now write again. No payload.
    pub(super) const RELEASE: u8 = 10;
    /// Whether a frame of `kind` comes with a region of shared memory.
    pub(super) fn is_shared(kind: u8) -> bool {
        matches!(kind, TASK_SHARED | DONE_SHARED)
    }
}

/// The most descriptors a channel holds for frames not read yet. A peer sends one with each
/// shared frame; more than this is a broken peer.
const MAX_DESCRIPTORS: usize = 16;

const HEADER: usize = 13;

/// The bytes of a shared frame's payload before the rest: `len: u64` and the handover.
const SHARED_PREFIX: usize = 8 + os::HANDOVER;

/// One frame, its payload owned.
#[derive(Debug)]
pub(crate) struct Frame {
    kind: u8,
    pub(crate) id: u64,
    payload: Vec<u8>,
    /// For a shared frame, its region, or why it is none.
    shared: Option<Result<Mapped, String>>,
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
    /// limit, or a kind the reader does not take): the stream cannot be trusted any further.
    Corrupt(String),
    /// Reading failed: the channel is broken.
    Io,
}

/// One end of the channel, with a read buffer.
pub(crate) struct Channel {
    stream: Stream,
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
    /// Descriptors received with frames not parsed yet, in the order of those frames.
    descriptors: VecDeque<Descriptor>,
    /// The regions of shared memory the peer has handed over.
    mappings: Mappings,
    /// A worker's regions for its large results (unused on the pool's side).
    results: ResultRegions,
}

/// How much the read buffer holds; larger payloads are read straight into their own `Vec`.
const BUFFER: usize = 64 << 10;

/// The largest payload buffer a channel keeps for reuse (see `recycle`).
const SPARE_LIMIT: usize = 64 << 20;

impl Channel {
    pub(crate) fn new(stream: Stream, max_frame: usize) -> Self {
        Self {
            stream,
            buffer: vec![0; BUFFER],
            start: 0,
            end: 0,
            max_frame,
            spare: Vec::new(),
            descriptors: VecDeque::new(),
            mappings: Mappings::default(),
            results: ResultRegions::default(),
        }
    }

    /// Hands back a received frame that is no longer needed, so that the next large payload
    /// is read into its memory. Freshly allocated memory costs a page fault per 4 KiB page
    /// on first touch, which made receiving a large frame take several times as long as
    /// copying it through the socket. A channel keeps one such buffer, of at most
    /// `SPARE_LIMIT` bytes.
    pub(crate) fn recycle(&mut self, frame: Frame) {
        let payload = frame.payload;
        let capacity = payload.capacity();
        if capacity > BUFFER && capacity <= SPARE_LIMIT && capacity > self.spare.capacity() {
            self.spare = payload;
        }
    }

    /// The largest payload this channel sends or accepts.
    pub(crate) fn max_frame(&self) -> usize {
        self.max_frame
    }

    /// In a worker: a watch on the pool's process `parent` (see `os::ParentWatch`); `None` if
    /// it is gone already.
    pub(crate) fn watch_parent(&self, parent: u32) -> Option<ParentWatch> {
        ParentWatch::new(parent, &self.stream)
    }

    /// Closes the sending direction: the peer reads end-of-stream after what was sent.
    pub(crate) fn close(&self) {
        self.stream.close_write();
    }

    /// Sends one frame whose payload is the concatenation of `parts`.
    fn send(&mut self, kind: u8, id: u64, parts: &[&[u8]]) -> io::Result<()> {
        self.send_with(kind, id, parts, None)
    }

    /// Sends one frame whose payload is the concatenation of `parts`, with `memory`'s
    /// descriptor if given.
    fn send_with(
        &mut self,
        kind: u8,
        id: u64,
        parts: &[&[u8]],
        memory: Option<&SharedMemory>,
    ) -> io::Result<()> {
        send_frame(&self.stream, self.max_frame, (kind, id), parts, memory)
    }

    /// Receives one frame, waiting until `deadline` (forever if `None`).
    pub(crate) fn recv(&mut self, deadline: Option<Instant>) -> Result<Frame, RecvError> {
        self.fill_to(HEADER, deadline)?;
        let header = &self.buffer[self.start..self.start + HEADER];
        let kind = header[0];
        let id = u64::from_le_bytes(header[1..9].try_into().expect("eight bytes"));
        let len = u32::from_le_bytes(header[9..13].try_into().expect("four bytes")) as usize;
        if !(kind::TASK..=kind::RELEASE).contains(&kind) {
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
        let shared = if kind::is_shared(kind) {
            Some(self.open_shared(&payload)?)
        } else {
            None
        };
        Ok(Frame {
            kind,
            id,
            payload,
            shared,
        })
    }

    /// The region of a shared frame whose payload is `payload` (`Stream::handed_over`: on
    /// Unix the oldest descriptor received, on Windows the handle the payload names). No
    /// descriptor, or a payload too short for a length and a handover, is a broken stream; a
    /// handle that cannot be taken, a region that is no payload (`Mappings::open`) or one
    /// over the limit fails only the task.
    fn open_shared(&mut self, payload: &[u8]) -> Result<Result<Mapped, String>, RecvError> {
        let parts = payload.split_first_chunk::<8>().and_then(|(len, rest)| {
            let (handover, _) = rest.split_first_chunk::<{ os::HANDOVER }>()?;
            Some((len, handover))
        });
        let Some((len, handover)) = parts else {
            return Err(RecvError::Corrupt(
                "a shared-memory frame too short for its length".to_owned(),
            ));
        };
        let descriptor = match self.stream.handed_over(*handover, &mut self.descriptors) {
            Some(Ok(descriptor)) => descriptor,
            Some(Err(problem)) => return Ok(Err(problem)),
            None => {
                return Err(RecvError::Corrupt(
                    "a shared-memory frame came without its descriptor".to_owned(),
                ))
            }
        };
        let len = u64::from_le_bytes(*len);
        if len > self.max_frame as u64 {
            return Ok(Err(format!(
                "a payload of {len} bytes exceeds the limit of {} bytes",
                self.max_frame
            )));
        }
        Ok(self.mappings.open(descriptor, len as usize))
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
            let into = &mut payload[filled..];
            match read(&self.stream, into, &mut self.descriptors, deadline)? {
                0 => return Err(RecvError::Truncated),
                read => filled += read,
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
            let into = &mut self.buffer[self.end..];
            match read(&self.stream, into, &mut self.descriptors, deadline)? {
                0 if self.end == 0 => return Err(RecvError::Closed),
                0 => return Err(RecvError::Truncated),
                read => self.end += read,
            }
        }
        Ok(())
    }
}

/// Sends one frame, `kind` and `id` in its header, whose payload is the concatenation of
/// `parts`, with `memory`'s descriptor if given; a payload over `max_frame` is refused.
fn send_frame(
    stream: &Stream,
    max_frame: usize,
    (kind, id): (u8, u64),
    parts: &[&[u8]],
    memory: Option<&SharedMemory>,
) -> io::Result<()> {
    let len: usize = parts.iter().map(|part| part.len()).sum();
    let len = u32::try_from(len)
        .ok()
        .filter(|&len| len as usize <= max_frame)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a frame of {len} bytes exceeds the limit of {} bytes",
                    max_frame
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
    write_all_vectored(stream, &mut slices, memory)
}

/// Reads into `into` once `stream` is readable, before `deadline`: `Ok(0)` at the end of the
/// stream, else how many bytes were read. Descriptors that came with them are appended to
/// `descriptors`.
fn read(
    stream: &Stream,
    into: &mut [u8],
    descriptors: &mut VecDeque<Descriptor>,
    deadline: Option<Instant>,
) -> Result<usize, RecvError> {
    loop {
        wait_readable(stream, deadline)?;
        match stream.read_with(into, descriptors) {
            Ok(_) if descriptors.len() > MAX_DESCRIPTORS => {
                return Err(RecvError::Corrupt(
                    "the peer sent more descriptors than frames".to_owned(),
                ))
            }
            Ok(read) => return Ok(read),
            Err(error) if error.kind() == io::ErrorKind::InvalidData => {
                return Err(RecvError::Corrupt(error.to_string()))
            }
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
                ) => {}
            Err(_) => return Err(RecvError::Io),
        }
    }
}

/// Waits until `stream` has bytes (or end-of-stream) to read: polls briefly without blocking
/// (see `spin`), then sleeps in `poll` until `deadline`.
fn wait_readable(stream: &Stream, deadline: Option<Instant>) -> Result<(), RecvError> {
    let limit = match deadline {
        Some(deadline) => SPIN_FOR.min(deadline.saturating_duration_since(Instant::now())),
        None => SPIN_FOR,
    };
    if spin_until(limit, || {
        stream.poll_readable(Some(Duration::ZERO)).unwrap_or(true)
    }) {
        return Ok(());
    }
    loop {
        let timeout = deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
        match stream.poll_readable(timeout) {
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

/// `write_all` over several buffers without copying them together; `memory`'s descriptor, if
/// given, goes with the first write (so with the frame's first byte).
fn write_all_vectored(
    stream: &Stream,
    mut slices: &mut [IoSlice<'_>],
    mut memory: Option<&SharedMemory>,
) -> io::Result<()> {
    while !slices.is_empty() {
        match stream.write_with(slices, memory) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(written) => {
                memory = None;
                IoSlice::advance_slices(&mut slices, written);
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// A `TASK` frame's payload: `call: u8` (see `call_byte`), `name_len: u16` (little-endian),
/// the name, then the encoded input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Task<'a> {
    pub(crate) call: Call,
    pub(crate) name: &'a str,
    pub(crate) input: &'a [u8],
}

/// A task to send: its frame's contents, and the region its input is in, if it is in one
/// (then `task.input` is that region's payload, which the frame does not carry).
#[derive(Clone, Copy)]
pub(crate) struct Outgoing<'a> {
    pub(crate) task: Task<'a>,
    pub(crate) memory: Option<&'a SharedMemory>,
}

/// The byte that says a task's kind of call. `Init` has one but is never sent: a worker runs
/// its initializer as it starts, so a task that asks for it is refused (`task_call`).
fn call_byte(call: Call) -> u8 {
    match call {
        Call::One => 0,
        Call::Batch => 1,
        Call::Init => 2,
    }
}

/// The kind of call a task's byte asks for, if a task may ask for it.
fn task_call(byte: u8) -> Option<Call> {
    match byte {
        0 => Some(Call::One),
        1 => Some(Call::Batch),
        _ => None,
    }
}

impl<'a> Task<'a> {
    /// The bytes of the payload before the input.
    fn header(&self) -> Vec<u8> {
        let mut header = Vec::with_capacity(3 + self.name.len());
        header.push(call_byte(self.call));
        header.extend_from_slice(&(self.name.len() as u16).to_le_bytes());
        header.extend_from_slice(self.name.as_bytes());
        header
    }

    /// How many bytes the payload takes.
    pub(crate) fn len(&self) -> usize {
        3 + self.name.len() + self.input.len()
    }

    /// Splits a task payload; the error says what is wrong with it.
    fn parse(payload: &'a [u8]) -> Result<Self, &'static str> {
        let malformed = "the task frame is malformed";
        let (&call, rest) = payload.split_first().ok_or(malformed)?;
        let (len, rest) = rest.split_at_checked(2).ok_or(malformed)?;
        let len = u16::from_le_bytes([len[0], len[1]]) as usize;
        let (name, input) = rest.split_at_checked(len).ok_or(malformed)?;
        let name = std::str::from_utf8(name).map_err(|_| malformed)?;
        let call = task_call(call).ok_or("the task asks for an unknown kind of call")?;
        Ok(Self { call, name, input })
    }
}

/// What a worker answers to a task.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Answer<'a> {
    /// The encoded output.
    Done(&'a [u8]),
    /// The task panicked with `message`, at `location` (`file:line:column`) if known.
    Panicked {
        message: &'a str,
        location: Option<&'a str>,
    },
    /// The input could not be decoded or the output encoded, or the task was malformed.
    Codec(&'a str),
    /// No function is registered under this name.
    Unknown(&'a str),
}

/// How a worker's start went, from the pool's side (`Channel::recv_start`).
#[derive(Debug)]
pub(crate) enum Start {
    /// It is ready for tasks.
    Ready,
    /// Its initializer failed, with this message.
    InitFailed(String),
    /// It sent something that is no start.
    Garbage,
    /// The channel ended or broke first.
    Ended,
}

/// The pool's side.
impl Channel {
    /// Sends `outgoing` as the task `id`.
    pub(crate) fn send_task(&mut self, id: u64, outgoing: &Outgoing<'_>) -> io::Result<()> {
        let task = &outgoing.task;
        match outgoing.memory {
            None => self.send(kind::TASK, id, &[&task.header(), task.input]),
            Some(memory) => {
                let len = (task.input.len() as u64).to_le_bytes();
                let parts: [&[u8]; 3] = [&len, &memory.handover(), &task.header()];
                self.send_with(kind::TASK_SHARED, id, &parts, Some(memory))
            }
        }
    }

    /// Tells the worker that the result of task `id`, in shared memory, has been read.
    pub(crate) fn send_release(&mut self, id: u64) -> io::Result<()> {
        self.send(kind::RELEASE, id, &[])
    }

    /// Waits for a new worker's first frame.
    pub(crate) fn recv_start(&mut self) -> Start {
        match self.recv(None) {
            Ok(frame) if frame.kind == kind::READY => Start::Ready,
            Ok(frame) if frame.kind == kind::INIT_FAILED => {
                Start::InitFailed(String::from_utf8_lossy(&frame.payload).into_owned())
            }
            Ok(_) | Err(RecvError::Corrupt(_)) => Start::Garbage,
            Err(_) => Start::Ended,
        }
    }
}

/// The worker's side.
impl Channel {
    /// Says the worker is ready for tasks.
    pub(crate) fn send_ready(&mut self) -> io::Result<()> {
        self.send(kind::READY, 0, &[])
    }

    /// Says the worker's initializer failed, with `message`.
    pub(crate) fn send_init_failed(&mut self, message: &str) -> io::Result<()> {
        self.send(kind::INIT_FAILED, 0, &[message.as_bytes()])
    }

    /// Receives the next task frame, taking in the pool's releases of result regions on the
    /// way; any other kind is `Corrupt`.
    pub(crate) fn recv_task(&mut self) -> Result<Frame, RecvError> {
        loop {
            let frame = self.recv(None)?;
            match frame.kind {
                kind::TASK | kind::TASK_SHARED => return Ok(frame),
                kind::RELEASE => self.results.release(frame.id),
                other => {
                    return Err(RecvError::Corrupt(format!(
                        "a frame of kind {other} where a task was expected"
                    )))
                }
            }
        }
    }

    /// Answers the task `id`.
    pub(crate) fn send_answer(&mut self, id: u64, answer: Answer<'_>) -> io::Result<()> {
        match answer {
            Answer::Done(output) if output.len() > THRESHOLD && os::HAS_SHARED_MEMORY => {
                let len = (output.len() as u64).to_le_bytes();
                // The region stays lent (`results`) until the pool's `RELEASE`.
                match self.results.lend(id, output) {
                    Some(memory) => send_frame(
                        &self.stream,
                        self.max_frame,
                        (kind::DONE_SHARED, id),
                        &[&len, &memory.handover()],
                        Some(memory),
                    ),
                    None => self.send(kind::DONE, id, &[output]),
                }
            }
            Answer::Done(output) => self.send(kind::DONE, id, &[output]),
            Answer::Panicked { message, location } => {
                let payload = panicked(message, location);
                self.send(kind::PANICKED, id, &[&payload])
            }
            Answer::Codec(message) => self.send(kind::CODEC, id, &[message.as_bytes()]),
            Answer::Unknown(name) => self.send(kind::UNKNOWN, id, &[name.as_bytes()]),
        }
    }
}

impl Frame {
    /// The task a `TASK` or `TASK_SHARED` frame (from `recv_task`) carries; the error says
    /// what is wrong with it.
    pub(crate) fn task(&self) -> Result<Task<'_>, String> {
        match &self.shared {
            None => Task::parse(&self.payload).map_err(str::to_owned),
            Some(Err(problem)) => Err(format!("could not decode the arguments: {problem}")),
            Some(Ok(mapped)) => {
                let rest = &self.payload[SHARED_PREFIX..]; // checked by `open_shared`
                let mut task = Task::parse(rest).map_err(str::to_owned)?;
                if !task.input.is_empty() {
                    return Err("the task frame is malformed".to_owned());
                }
                task.input = mapped.bytes();
                Ok(task)
            }
        }
    }

    /// Whether this reply's payload is in a region of the worker's, which the pool must
    /// release (`Channel::send_release`) once it is read.
    pub(crate) fn is_shared_reply(&self) -> bool {
        self.kind == kind::DONE_SHARED
    }

    /// The outcome that this reply carries, from the worker process `pid`.
    pub(crate) fn reply(self, pid: u32) -> Result<(Payload, u32), TaskError> {
        match self.shared {
            Some(Ok(mapped)) if self.kind == kind::DONE_SHARED => {
                Ok((Payload::Shared(mapped), pid))
            }
            Some(Err(problem)) => Err(TaskError::codec(format!(
                "could not decode the result: {problem}"
            ))),
            _ => {
                reply(self.kind, self.payload, pid).map(|(bytes, pid)| (Payload::Bytes(bytes), pid))
            }
        }
    }
}

/// A reply's encoded output: received bytes, or a worker's region of shared memory.
#[derive(Debug)]
pub(crate) enum Payload {
    Bytes(Vec<u8>),
    Shared(Mapped),
}

impl Payload {
    /// The encoded output.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Self::Bytes(bytes) => bytes,
            Self::Shared(mapped) => mapped.bytes(),
        }
    }
}

/// The payload of a `PANICKED` reply: `location_len: u32` (little-endian), the location
/// (`file:line:column`, empty when unknown), then the message.
fn panicked(message: &str, location: Option<&str>) -> Vec<u8> {
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
fn reply(kind: u8, payload: Vec<u8>, pid: u32) -> Result<(Vec<u8>, u32), TaskError> {
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

#[cfg(test)]
mod tests;
