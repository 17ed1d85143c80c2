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
    write_all_vectored(&channel.stream, &mut [IoSlice::new(bytes)], None).unwrap();
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
    let outgoing = Outgoing { task, memory: None };
    pool.send_task(5, &outgoing).unwrap();
    let frame = worker.recv_task().unwrap();
    assert_eq!((frame.id, frame.task()), (5, Ok(task)));
    worker.send_answer(5, Answer::Done(b"out")).unwrap();
    let (out, pid) = pool.recv(None).unwrap().reply(9).unwrap();
    assert_eq!((out.bytes(), pid), (&b"out"[..], 9));
    worker.send_answer(6, Answer::Unknown("g")).unwrap();
    let unknown = pool.recv(None).unwrap().reply(9).unwrap_err();
    assert!(unknown.to_string().contains("`g`"));
    worker.send_ready().unwrap();
    assert!(matches!(pool.recv_start(), Start::Ready));
    worker.send_init_failed("no database").unwrap();
    assert!(matches!(pool.recv_start(), Start::InitFailed(message) if message == "no database"));
    pool.send_task(7, &outgoing).unwrap();
    worker.send_ready().unwrap();
    assert!(worker.recv_task().is_ok());
    assert!(
        matches!(pool.recv_task(), Err(RecvError::Corrupt(_))),
        "a worker's frame is no task"
    );
}

/// Large payloads in shared memory (Linux): what crosses, and what a broken peer can send.
/// Three tasks whose input is `input`, in `memory`, go from `pool` to `worker` and are each
/// answered with a result large enough for shared memory, which the pool reads and releases.
#[cfg(any(target_os = "linux", windows))]
fn three_round_trips_in_shared_memory(
    pool: &mut Channel,
    worker: &mut Channel,
    memory: &SharedMemory,
    input: &[u8],
) {
    for id in 1..=3 {
        let task = Task {
            call: Call::One,
            name: "f",
            input: &memory.bytes()[..input.len()],
        };
        let outgoing = Outgoing {
            task,
            memory: Some(memory),
        };
        pool.send_task(id, &outgoing).unwrap();
        let frame = worker.recv_task().unwrap();
        assert_eq!(frame.task().unwrap().input, input);
        let output = vec![id as u8; 300_000];
        worker.send_answer(id, Answer::Done(&output)).unwrap();
        let frame = pool.recv(None).unwrap();
        assert!(frame.is_shared_reply());
        let (payload, _) = frame.reply(1).unwrap();
        assert_eq!(payload.bytes(), &output[..]);
        pool.send_release(id).unwrap();
    }
}

#[cfg(target_os = "linux")]
mod shared {
    use std::os::fd::OwnedFd;

    use super::*;
    use crate::process_pool::shm;

    /// A region holding `bytes` at its start.
    fn region_with(bytes: &[u8]) -> SharedMemory {
        let mut memory = shm::region(bytes.len()).unwrap();
        memory.bytes_mut()[..bytes.len()].copy_from_slice(bytes);
        memory
    }

    /// Sends a `TASK_SHARED` frame claiming `len` bytes, with `descriptor` attached.
    fn send_claim(pool: &mut Channel, len: u64, descriptor: Option<&SharedMemory>) {
        let task = Task {
            call: Call::One,
            name: "f",
            input: &[],
        };
        let claim = len.to_le_bytes();
        pool.send_with(kind::TASK_SHARED, 3, &[&claim, &task.header()], descriptor)
            .unwrap();
    }

    #[test]
    fn a_task_and_its_result_cross_in_shared_memory_and_regions_are_reused() {
        let (mut pool, mut worker) = pair(1 << 30);
        let input: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let memory = region_with(&input);
        three_round_trips_in_shared_memory(&mut pool, &mut worker, &memory, &input);
        assert_eq!(
            worker.mappings.mapped_count(),
            1,
            "one input region, mapped once"
        );
        assert_eq!(pool.mappings.mapped_count(), 1, "one result region, reused");
        assert!(pool.descriptors.is_empty() && worker.descriptors.is_empty());
    }

    #[test]
    fn a_descriptor_that_is_no_sealed_memory_fails_the_task_only() {
        let (mut pool, mut worker) = pair(1 << 30);
        let (socket, _other) = os::channel().unwrap();
        let not_memory: OwnedFd = socket.into_fd();
        send_raw_descriptor(&mut pool, not_memory);
        let frame = worker.recv_task().unwrap();
        let problem = frame.task().unwrap_err();
        assert!(problem.contains("not shared memory"), "{problem}");
        // The stream goes on: the next frame is read as usual.
        pool.send_task(
            4,
            &Outgoing {
                task: Task {
                    call: Call::One,
                    name: "g",
                    input: b"x",
                },
                memory: None,
            },
        )
        .unwrap();
        assert_eq!(worker.recv_task().unwrap().task().unwrap().name, "g");
    }

    #[test]
    fn a_size_that_lies_or_exceeds_the_limit_fails_the_task() {
        let (mut pool, mut worker) = pair(1 << 20);
        let memory = region_with(&[1; 1000]);
        send_claim(&mut pool, memory.len() as u64 + 1, Some(&memory));
        let problem = worker.recv_task().unwrap().task().unwrap_err();
        assert!(problem.contains("claims"), "{problem}");
        send_claim(&mut pool, memory.len() as u64, Some(&memory));
        assert!(
            worker.recv_task().unwrap().task().is_ok(),
            "the region itself is fine"
        );
        send_claim(&mut pool, 2 << 20, Some(&memory));
        let problem = worker.recv_task().unwrap().task().unwrap_err();
        assert!(problem.contains("limit"), "{problem}");
    }

    #[test]
    fn a_shared_frame_without_its_descriptor_is_corrupt() {
        let (mut pool, mut worker) = pair(1 << 20);
        send_claim(&mut pool, 10, None);
        assert!(matches!(worker.recv_task(), Err(RecvError::Corrupt(_))));
    }

    #[test]
    fn a_corrupt_result_region_fails_that_task_with_codec() {
        let (mut pool, mut worker) = pair(1 << 20);
        let (socket, _other) = os::channel().unwrap();
        let claim = 100u64.to_le_bytes();
        worker.descriptors.clear();
        send_descriptor_frame(&mut worker, kind::DONE_SHARED, &claim, socket.into_fd());
        let error = pool.recv(None).unwrap().reply(1).unwrap_err();
        assert!(error.is_codec(), "{error}");
    }

    /// A `TASK_SHARED` frame claiming 8 bytes, with `descriptor` (anything) attached.
    fn send_raw_descriptor(pool: &mut Channel, descriptor: OwnedFd) {
        let task = Task {
            call: Call::One,
            name: "f",
            input: &[],
        };
        let mut payload = 8u64.to_le_bytes().to_vec();
        payload.extend_from_slice(&task.header());
        send_descriptor_frame(pool, kind::TASK_SHARED, &payload, descriptor);
    }

    /// A frame of `kind` with `payload`, and `descriptor` attached however it is made.
    fn send_descriptor_frame(channel: &mut Channel, kind: u8, payload: &[u8], descriptor: OwnedFd) {
        let mut header = header(kind, payload.len() as u32);
        header[1] = 3;
        channel
            .stream
            .write_descriptor_for_tests(&[IoSlice::new(&header), IoSlice::new(payload)], descriptor)
            .unwrap();
    }
}

/// Shared frames on Windows: the handle's value travels in the frame and the reader takes it
/// from its peer (here this very process: both ends of a `channel` are in it).
#[cfg(windows)]
mod shared_windows {
    use super::*;
    use crate::process_pool::shm;

    fn region_with(bytes: &[u8]) -> SharedMemory {
        let mut memory = shm::region(bytes.len()).unwrap();
        memory.bytes_mut()[..bytes.len()].copy_from_slice(bytes);
        memory
    }

    /// Sends a `TASK_SHARED` frame claiming `len` bytes of the region whose handle value is
    /// `handle`, whatever that is.
    fn send_claim(pool: &mut Channel, len: u64, handle: u64) {
        let task = Task {
            call: Call::One,
            name: "f",
            input: &[],
        };
        let parts: [&[u8]; 3] = [&len.to_le_bytes(), &handle.to_le_bytes(), &task.header()];
        pool.send(kind::TASK_SHARED, 3, &parts).unwrap();
    }

    fn value(handle: &impl std::os::windows::io::AsRawHandle) -> u64 {
        handle.as_raw_handle() as usize as u64
    }

    fn next_task_is_read_as_usual(pool: &mut Channel, worker: &mut Channel) {
        let task = Task {
            call: Call::One,
            name: "g",
            input: b"x",
        };
        pool.send_task(4, &Outgoing { task, memory: None }).unwrap();
        assert_eq!(worker.recv_task().unwrap().task().unwrap().name, "g");
    }

    #[test]
    fn a_task_and_its_result_cross_in_shared_memory() {
        let (mut pool, mut worker) = pair(1 << 30);
        let input: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let memory = region_with(&input);
        three_round_trips_in_shared_memory(&mut pool, &mut worker, &memory, &input);
    }

    #[test]
    fn a_handle_value_that_names_nothing_fails_the_task_only() {
        let (mut pool, mut worker) = pair(1 << 30);
        for garbage in [0x7ff0_u64, 1 << 40, u64::MAX, 0] {
            send_claim(&mut pool, 8, garbage);
            let problem = worker.recv_task().unwrap().task().unwrap_err();
            assert!(problem.contains("handle"), "{garbage:#x}: {problem}");
        }
        next_task_is_read_as_usual(&mut pool, &mut worker);
    }

    #[test]
    fn a_handle_that_is_no_section_fails_the_task_only() {
        let (mut pool, mut worker) = pair(1 << 30);
        // SAFETY: no security attributes, no name: a new event, owned below.
        let event = unsafe {
            windows_sys::Win32::System::Threading::CreateEventW(
                std::ptr::null(),
                1,
                0,
                std::ptr::null(),
            )
        };
        assert!(!event.is_null());
        // SAFETY: `CreateEventW` just made it, for us alone.
        let not_memory = unsafe {
            <std::os::windows::io::OwnedHandle as std::os::windows::io::FromRawHandle>::from_raw_handle(event)
        };
        send_claim(&mut pool, 8, value(&not_memory));
        let problem = worker.recv_task().unwrap().task().unwrap_err();
        assert!(problem.contains("not shared memory"), "{problem}");
        next_task_is_read_as_usual(&mut pool, &mut worker);
    }

    #[test]
    fn a_size_that_lies_or_exceeds_the_limit_fails_the_task() {
        let (mut pool, mut worker) = pair(1 << 20);
        let memory = region_with(&[1; 1000]);
        let handle = u64::from_le_bytes(memory.handover());
        send_claim(&mut pool, memory.len() as u64 + 1, handle);
        let problem = worker.recv_task().unwrap().task().unwrap_err();
        assert!(problem.contains("claims"), "{problem}");
        send_claim(&mut pool, memory.len() as u64, handle);
        assert!(worker.recv_task().unwrap().task().is_ok());
        send_claim(&mut pool, 2 << 20, handle);
        let problem = worker.recv_task().unwrap().task().unwrap_err();
        assert!(problem.contains("limit"), "{problem}");
    }

    #[test]
    fn a_shared_frame_too_short_for_its_handle_is_corrupt() {
        let (mut pool, mut worker) = pair(1 << 20);
        pool.send(kind::TASK_SHARED, 3, &[&10u64.to_le_bytes(), &[1, 2]])
            .unwrap();
        assert!(matches!(worker.recv_task(), Err(RecvError::Corrupt(_))));
    }

    #[test]
    fn a_result_handle_that_names_nothing_fails_that_task_with_codec() {
        let (mut pool, mut worker) = pair(1 << 20);
        let parts: [&[u8]; 2] = [&100u64.to_le_bytes(), &0x7ff0u64.to_le_bytes()];
        worker.send(kind::DONE_SHARED, 1, &parts).unwrap();
        let error = pool.recv(None).unwrap().reply(1).unwrap_err();
        assert!(error.is_codec(), "{error}");
    }
}
