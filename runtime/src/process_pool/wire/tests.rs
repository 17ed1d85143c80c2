//! Frames through a real socket pair, and the payloads of tasks and replies.

use std::time::{Duration, Instant};

use super::*;
use crate::process_pool::os;

fn pair(max_frame: usize) -> (Channel, Channel) {
    let (a, b) = os::channel().unwrap();
    (Channel::new(a, max_frame), Channel::new(b, max_frame))
}

/// Writes `bytes` as they are, frame or not.
fn raw(channel: &Channel, bytes: &[u8]) {
    write_all_vectored(&channel.stream, &mut [IoSlice::new(bytes)]).unwrap();
}

/// A frame header of `kind` announcing `len` bytes.
fn header(kind: u8, len: u32) -> [u8; HEADER] {
    let mut header = [0u8; HEADER];
    header[0] = kind;
    header[9..13].copy_from_slice(&len.to_le_bytes());
    header
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
    b.recycle(first);
    let second = b.recv(None).unwrap();
    assert_eq!(
        second.payload.as_ptr(),
        address,
        "read into the recycled buffer"
    );
    assert_eq!(second.payload, vec![0x55; 2_000_000]);
    b.recycle(second);
    let third = b.recv(None).unwrap();
    assert_eq!(third.payload, vec![0x11; 2_500_000]);
    b.recycle(third);
    // A frame cut short is still `Truncated` when read into a recycled buffer.
    let a = sender.join().unwrap();
    raw(&a, &header(kind::DONE, 1_000_000));
    raw(&a, &[1; 1000]);
    drop(a);
    assert!(matches!(b.recv(None), Err(RecvError::Truncated)));
}

#[test]
fn an_oversized_length_is_refused_before_allocating() {
    let (a, mut b) = pair(1024);
    raw(&a, &header(kind::DONE, u32::MAX));
    assert!(
        matches!(b.recv(None), Err(RecvError::Corrupt(message)) if message.contains("exceeds the limit"))
    );
}

#[test]
fn an_unknown_kind_is_corrupt() {
    let (a, mut b) = pair(1024);
    raw(&a, &[99; HEADER]);
    assert!(matches!(b.recv(None), Err(RecvError::Corrupt(_))));
}

#[test]
fn a_frame_cut_short_is_truncated_and_a_clean_end_is_closed() {
    let (a, mut b) = pair(1024);
    raw(&a, &header(kind::DONE, 10));
    raw(&a, b"abc");
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
    let task = Task {
        call: Call::Batch,
        name: "crate::square#u64",
        input: &[9, 9],
    };
    let mut payload = task.header();
    payload.extend_from_slice(task.input);
    assert_eq!(payload[0], 1, "a batch's call byte");
    assert_eq!(payload.len(), task.len());
    assert_eq!(Task::parse(&payload), Ok(task));
    assert!(Task::parse(&[1, 200, 0, b'x']).is_err());
    assert!(Task::parse(&[]).is_err());
    assert_eq!(
        Task::parse(&[2, 0, 0]),
        Err("the task asks for an unknown kind of call"),
        "an initializer is never a task"
    );
}

#[test]
fn a_task_and_every_answer_cross_the_channel() {
    let (mut pool, mut worker) = pair(1024);
    let task = Task {
        call: Call::One,
        name: "f",
        input: b"in",
    };
    pool.send_task(5, &task).unwrap();
    let frame = worker.recv_task().unwrap();
    assert_eq!((frame.id, frame.task()), (5, Ok(task)));
    worker.send_answer(5, Answer::Done(b"out")).unwrap();
    assert_eq!(pool.recv(None).unwrap().reply(9), Ok((b"out".to_vec(), 9)));
    worker.send_answer(6, Answer::Unknown("g")).unwrap();
    let unknown = pool.recv(None).unwrap().reply(9).unwrap_err();
    assert!(unknown.to_string().contains("`g`"));
    worker.send_ready().unwrap();
    assert!(matches!(pool.recv_start(), Start::Ready));
    worker.send_init_failed("no database").unwrap();
    assert!(matches!(pool.recv_start(), Start::InitFailed(message) if message == "no database"));
    pool.send_task(7, &task).unwrap();
    worker.send_ready().unwrap();
    assert!(worker.recv_task().is_ok());
    assert!(
        matches!(pool.recv_task(), Err(RecvError::Corrupt(_))),
        "a worker's frame is no task"
    );
}
