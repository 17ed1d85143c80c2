//! What passes between the root and its worker ranks, in both directions: the one place that
//! builds and parses a message. `comm.rs` moves the bytes; nothing else reads them.
//!
//! Every message starts with `total: u64` (its whole length, little-endian, as every number
//! here), `kind: u8` and `id: u64` (the task it is about). A message longer than a part
//! (`i32::MAX` bytes, MPI's largest count) goes as several messages of the same tag, in order:
//! MPI keeps the order of messages between two ranks on one tag, so the receiver takes the
//! first, reads `total`, and takes the next ones from the same rank until it has `total` bytes.
//!
//! Root → worker (`comm::TO_WORKER`): `TASK` (`call: u8`, `name_len: u16`, the name,
//! `init_len: u16`, the initializer's name (empty for none), then the encoded input) and
//! `STOP` (nothing more: serve no further, finalise, exit).
//!
//! Worker → root (`comm::TO_ROOT`): `pid: u32` (the worker's process id, for
//! `TaskError::Panicked`), then by kind: `DONE` (the encoded output), `PANICKED`
//! (`location_len: u32`, the location, the message), `CODEC` (the message), `UNKNOWN` (the
//! name), `BROKEN` (the initializer's failure, which fails every task of its pool).

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use super::comm::{Comm, Incoming, Sending};
use crate::error::TaskError;
use crate::process_pool::Call;

mod kind {
    pub(super) const TASK: u8 = 1;
    pub(super) const STOP: u8 = 2;
    pub(super) const DONE: u8 = 3;
    pub(super) const PANICKED: u8 = 4;
    pub(super) const CODEC: u8 = 5;
    pub(super) const UNKNOWN: u8 = 6;
    pub(super) const BROKEN: u8 = 7;
}

/// `total`, `kind`, `id`.
const HEADER: usize = 17;
/// A reply's header: `HEADER` and `pid`.
const REPLY_HEADER: usize = HEADER + 4;

/// The largest part of a message: MPI's counts are C ints.
pub(crate) const MAX_PART: usize = i32::MAX as usize;

/// The ranges of a message of `total` bytes sent in parts of at most `max` bytes.
pub(crate) fn parts(total: usize, max: usize) -> impl Iterator<Item = Range<usize>> {
    (0..total)
        .step_by(max.max(1))
        .map(move |start| start..total.min(start + max))
}

/// Receives the whole message that `first` begins, taking its further parts from the same
/// rank on `tag`. `Err` if its length field makes no sense.
pub(crate) fn receive(comm: &Comm, first: Incoming, tag: i32) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    receive_into(comm, first, tag, &mut bytes)?;
    Ok(bytes)
}

/// As `receive`, into `bytes` (cleared first), whose capacity a worker rank keeps from one
/// task to the next: the first touch of freshly mapped memory costs a page fault per 4 KiB,
/// which for a large input costs more than receiving it.
pub(crate) fn receive_into(
    comm: &Comm,
    first: Incoming,
    tag: i32,
    bytes: &mut Vec<u8>,
) -> Result<(), String> {
    let source = first.source;
    bytes.clear();
    first.receive_into(bytes);
    let total = total_of(bytes)?;
    if total < bytes.len() {
        return Err(format!(
            "a message says it is {total} bytes long, but its first part has {}",
            bytes.len()
        ));
    }
    bytes.reserve_exact(total - bytes.len());
    while bytes.len() < total {
        let next = comm.wait_from(source, tag);
        if next.len == 0 || bytes.len() + next.len > total {
            return Err("a message's parts do not add up to its length".to_owned());
        }
        next.receive_into(bytes);
    }
    Ok(())
}

fn total_of(bytes: &[u8]) -> Result<usize, String> {
    bytes
        .first_chunk::<8>()
        .filter(|_| bytes.len() >= HEADER)
        .map(|total| u64::from_le_bytes(*total) as usize)
        .ok_or_else(|| {
            format!(
                "a message of {} bytes is shorter than a header",
                bytes.len()
            )
        })
}

/// A message's header with its length field still zero (`finish` sets it).
fn header(kind: u8, id: u64, capacity: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(capacity);
    bytes.extend_from_slice(&0u64.to_le_bytes());
    bytes.push(kind);
    bytes.extend_from_slice(&id.to_le_bytes());
    bytes
}

/// Writes the length field.
fn finish(mut bytes: Vec<u8>) -> Vec<u8> {
    let total = bytes.len() as u64;
    bytes[..8].copy_from_slice(&total.to_le_bytes());
    bytes
}

fn put_name(bytes: &mut Vec<u8>, name: &str) {
    bytes.extend_from_slice(&(name.len() as u16).to_le_bytes());
    bytes.extend_from_slice(name.as_bytes());
}

/// What a task asks a worker rank to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Task<'a> {
    pub(crate) call: Call,
    /// The registered function (or, for `Call::Init`, the initializer) to run.
    pub(crate) name: &'a str,
    /// The initializer of the task's pool, run once on the rank before its first task.
    pub(crate) initializer: Option<&'a str>,
    pub(crate) input: &'a [u8],
}

/// The header of the `TASK` message for task `id`, whose input of `input_len` bytes follows
/// it (`send`).
pub(crate) fn task_header(
    id: u64,
    call: Call,
    name: &str,
    initializer: Option<&str>,
    input_len: usize,
) -> Vec<u8> {
    let initializer = initializer.unwrap_or("");
    let len = HEADER + 5 + name.len() + initializer.len();
    let mut bytes = header(kind::TASK, id, len);
    bytes.push(call_byte(call));
    put_name(&mut bytes, name);
    put_name(&mut bytes, initializer);
    let total = (bytes.len() + input_len) as u64;
    bytes[..8].copy_from_slice(&total.to_le_bytes());
    bytes
}

/// Starts sending, without waiting, `header` and then `body` (whose lengths the header's
/// length field adds up), to `rank` on `tag`. A small body is copied behind the header into
/// one message; a large one goes as it is, after the header, in parts (no copy).
pub(crate) fn send(
    comm: &Comm,
    mut header: Vec<u8>,
    body: Arc<Vec<u8>>,
    rank: i32,
    tag: i32,
) -> Vec<Sending> {
    let max = max_part();
    if header.len() + body.len() <= COPY_UNDER.min(max) {
        header.extend_from_slice(&body);
        let len = header.len();
        return vec![comm.send_later(Arc::new(header), std::iter::once(0..len), rank, tag)];
    }
    let len = header.len();
    let first = comm.send_later(Arc::new(header), parts(len, max), rank, tag);
    let len = body.len();
    vec![first, comm.send_later(body, parts(len, max), rank, tag)]
}

/// Sends the whole message `bytes` to `rank` on `tag`, in parts, waiting until each has gone.
pub(crate) fn send_now(comm: &Comm, bytes: &[u8], rank: i32, tag: i32) {
    for part in parts(bytes.len(), max_part()) {
        comm.send(&bytes[part], rank, tag);
    }
}

/// A body up to this size is copied behind its header, to go as one message.
const COPY_UNDER: usize = 64 << 10;

/// The largest part this process sends: `MAX_PART`, or less if `PARALLEL_MPI_MAX_PART` says
/// so (for the tests, which cannot send 2 GiB on every run; the receiver needs no telling).
fn max_part() -> usize {
    static MAX: OnceLock<usize> = OnceLock::new();
    *MAX.get_or_init(|| {
        std::env::var("PARALLEL_MPI_MAX_PART")
            .ok()
            .and_then(|max| max.parse().ok())
            .map_or(MAX_PART, |max: usize| max.clamp(256, MAX_PART))
    })
}

/// The `STOP` message.
pub(crate) fn stop() -> Vec<u8> {
    finish(header(kind::STOP, 0, HEADER))
}

fn call_byte(call: Call) -> u8 {
    match call {
        Call::One => 0,
        Call::Batch => 1,
        Call::Init => 2,
    }
}

/// What the root asked, as a worker rank reads it.
pub(crate) enum Request<'a> {
    Task(u64, Task<'a>),
    Stop,
}

/// Reads a message from the root; `Err` says what is malformed.
pub(crate) fn request(bytes: &[u8]) -> Result<Request<'_>, &'static str> {
    let malformed = "a malformed message from the root";
    let (kind, id, mut rest) = split_header(bytes).ok_or(malformed)?;
    match kind {
        kind::STOP => Ok(Request::Stop),
        kind::TASK => {
            let (&call, after) = rest.split_first().ok_or(malformed)?;
            rest = after;
            let call = match call {
                0 => Call::One,
                1 => Call::Batch,
                2 => Call::Init,
                _ => return Err(malformed),
            };
            let (name, after) = take_name(rest).ok_or(malformed)?;
            let (initializer, input) = take_name(after).ok_or(malformed)?;
            let initializer = (!initializer.is_empty()).then_some(initializer);
            Ok(Request::Task(
                id,
                Task {
                    call,
                    name,
                    initializer,
                    input,
                },
            ))
        }
        _ => Err(malformed),
    }
}

fn split_header(bytes: &[u8]) -> Option<(u8, u64, &[u8])> {
    let (head, rest) = bytes.split_at_checked(HEADER)?;
    let id = u64::from_le_bytes(head[9..17].try_into().ok()?);
    Some((head[8], id, rest))
}

fn take_name(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let (len, rest) = bytes.split_first_chunk::<2>()?;
    let (name, rest) = rest.split_at_checked(u16::from_le_bytes(*len) as usize)?;
    Some((std::str::from_utf8(name).ok()?, rest))
}

/// What a worker rank answers to a task.
#[derive(Debug)]
pub(crate) enum Answer<'a> {
    Done(Vec<u8>),
    Panicked {
        message: &'a str,
        location: Option<&'a str>,
    },
    Codec(&'a str),
    Unknown(&'a str),
    /// The pool's initializer failed on this rank, with this message.
    Broken(&'a str),
}

/// The reply to task `id` from the worker process `pid`.
pub(crate) fn answer(id: u64, pid: u32, answer: Answer<'_>) -> Vec<u8> {
    let (kind, parts): (u8, [&[u8]; 3]) = match &answer {
        Answer::Done(output) => (kind::DONE, [output, &[], &[]]),
        Answer::Panicked { message, location } => {
            let location = location.unwrap_or("").as_bytes();
            let len = (location.len() as u32).to_le_bytes();
            let mut bytes = header(kind::PANICKED, id, REPLY_HEADER + 4 + location.len());
            bytes.extend_from_slice(&pid.to_le_bytes());
            bytes.extend_from_slice(&len);
            bytes.extend_from_slice(location);
            bytes.extend_from_slice(message.as_bytes());
            return finish(bytes);
        }
        Answer::Codec(message) => (kind::CODEC, [message.as_bytes(), &[], &[]]),
        Answer::Unknown(name) => (kind::UNKNOWN, [name.as_bytes(), &[], &[]]),
        Answer::Broken(message) => (kind::BROKEN, [message.as_bytes(), &[], &[]]),
    };
    let len: usize = parts.iter().map(|part| part.len()).sum();
    let mut bytes = header(kind, id, REPLY_HEADER + len);
    bytes.extend_from_slice(&pid.to_le_bytes());
    parts.iter().for_each(|part| bytes.extend_from_slice(part));
    finish(bytes)
}

/// What a reply says of its task: the encoded output and the worker's process id, or the
/// error (the outcome `ProcessJob::finish` takes).
pub(crate) type Outcome = Result<(Vec<u8>, u32), TaskError>;

/// A worker rank's reply: the task's id, and its outcome. `Err` if the reply is malformed.
pub(crate) fn reply(mut bytes: Vec<u8>) -> Result<(u64, Outcome), String> {
    let (kind, id, rest) = split_header(&bytes).ok_or("a malformed reply")?;
    let (pid, payload) = rest.split_first_chunk::<4>().ok_or("a malformed reply")?;
    let pid = u32::from_le_bytes(*pid);
    let text = || String::from_utf8_lossy(payload).into_owned();
    let outcome = match kind {
        kind::DONE => {
            bytes.drain(..REPLY_HEADER);
            Ok((bytes, pid))
        }
        kind::PANICKED => {
            let (message, location) = panicked(payload);
            Err(TaskError::panicked_at(message, location, Some(pid)))
        }
        kind::CODEC => Err(TaskError::codec(text())),
        kind::UNKNOWN => Err(TaskError::codec(format!(
            "the worker rank has no function registered as `{}`",
            text()
        ))),
        kind::BROKEN => Err(TaskError::broken(text())),
        other => return Err(format!("a reply of unknown kind {other}")),
    };
    Ok((id, outcome))
}

/// The message and location of a `PANICKED` payload (a malformed one is all message).
fn panicked(payload: &[u8]) -> (String, Option<String>) {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let parts = payload
        .split_first_chunk::<4>()
        .and_then(|(len, rest)| rest.split_at_checked(u32::from_le_bytes(*len) as usize));
    match parts {
        Some((location, message)) => (
            (text(message)),
            (!location.is_empty()).then(|| text(location)),
        ),
        None => (text(payload), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_message_in_order() {
        let parts: Vec<_> = parts(10, 4).collect();
        assert_eq!(parts, [0..4, 4..8, 8..10]);
        let whole = |total, max| super::parts(total, max).collect::<Vec<Range<usize>>>();
        assert_eq!(whole(4, 4), vec![Range { start: 0, end: 4 }]);
        assert_eq!(whole(5, MAX_PART), vec![Range { start: 0, end: 5 }]);
        let big = (MAX_PART as u64 * 2 + 3) as usize;
        let split: Vec<_> = super::parts(big, MAX_PART).collect();
        assert_eq!(split.len(), 3);
        assert!(split.iter().all(|part| part.len() <= MAX_PART));
        assert_eq!(split.last().unwrap().end, big);
    }

    #[test]
    fn a_task_round_trips() {
        let mut bytes = task_header(9, Call::Batch, "m::f#fn(u8) -> u8", Some("m::init"), 3);
        bytes.extend_from_slice(&[1, 2, 3]);
        assert_eq!(total_of(&bytes).unwrap(), bytes.len());
        let Ok(Request::Task(id, task)) = request(&bytes) else {
            panic!("not a task")
        };
        assert_eq!(id, 9);
        assert_eq!(
            task,
            Task {
                call: Call::Batch,
                name: "m::f#fn(u8) -> u8",
                initializer: Some("m::init"),
                input: &[1, 2, 3],
            }
        );
        assert!(matches!(request(&stop()), Ok(Request::Stop)));
        assert!(request(&bytes[..20]).is_err(), "truncated");
    }

    #[test]
    fn answers_round_trip() {
        let (id, outcome) = reply(answer(4, 77, Answer::Done(vec![5, 6]))).unwrap();
        assert_eq!((id, outcome), (4, Ok((vec![5, 6], 77))));
        let panicked = Answer::Panicked {
            message: "boom",
            location: Some("src/lib.rs:1:2"),
        };
        let (_, outcome) = reply(answer(1, 77, panicked)).unwrap();
        let error = outcome.unwrap_err();
        assert_eq!(error.panic_message(), Some("boom"));
        assert!(matches!(
            error,
            TaskError::Panicked {
                process: Some(77),
                ..
            }
        ));
        let (_, outcome) = reply(answer(1, 7, Answer::Broken("init failed"))).unwrap();
        assert_eq!(outcome.unwrap_err(), TaskError::broken("init failed"));
        assert!(reply(vec![0; 5]).is_err());
    }
}
