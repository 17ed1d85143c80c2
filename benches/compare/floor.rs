//! The floor of a process round trip (SPEC §5, issue 13): a bare socketpair ping-pong between
//! this process and a child of it, with no pool, no codec and no threads besides the two
//! ends. The same message size as our smallest task frame goes each way. Two flavours:
//!
//! - polling: both ends read without blocking and spin until the bytes are there, so no
//!   wake-up by the scheduler is ever paid (the least a round trip can cost here);
//! - blocking: both ends sleep in `read`, so each message pays one wake-up.
//!
//! The child is this program started again with `FLOOR_ENV` set and its end of the pair as
//! standard input (`serve_if_child`, first thing in `main`). Unix only: elsewhere the floor
//! is not measured (its round trips take no time, and the tables say so).

#[cfg(unix)]
pub use self::unix::{serve_if_child, Peer};

#[cfg(not(unix))]
pub use self::elsewhere::{serve_if_child, Peer};

/// How the two ends wait for bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Poll,
    Block,
}

#[cfg(not(unix))]
mod elsewhere {
    use std::time::Duration;

    use super::Flavour;

    pub fn serve_if_child() {}

    pub struct Peer;

    impl Peer {
        pub fn start(_flavour: Flavour) -> Self {
            Peer
        }

        pub fn round_trips(&mut self, _count: u64) -> Duration {
            Duration::ZERO
        }
    }
}

#[cfg(unix)]
mod unix {
    use std::io::{self, Read, Write};
    use std::os::fd::{AsFd, OwnedFd};
    use std::os::unix::net::UnixStream;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use super::Flavour;

    /// Set in the child's environment: `poll` or `block`.
    const FLOOR_ENV: &str = "PARALLEL_BENCH_FLOOR";

    /// Bytes each way: a frame header (13) and a `u64` payload, as `tiny(i)` sends.
    const MESSAGE: usize = 21;

    impl Flavour {
        fn word(self) -> &'static str {
            match self {
                Flavour::Poll => "poll",
                Flavour::Block => "block",
            }
        }
    }

    /// In the child (started by `Peer::start`): echoes every message until end of stream, then
    /// exits. Anything else returns at once.
    pub fn serve_if_child() {
        let Some(word) = std::env::var_os(FLOOR_ENV) else {
            return;
        };
        let flavour = if word == "poll" {
            Flavour::Poll
        } else {
            Flavour::Block
        };
        let fd = io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .expect("standard input is the channel");
        let mut stream = UnixStream::from(fd);
        stream
            .set_nonblocking(flavour == Flavour::Poll)
            .expect("a socket");
        let mut message = [0u8; MESSAGE];
        while read_message(&mut stream, &mut message) {
            write_message(&mut stream, &message);
        }
        std::process::exit(0);
    }

    /// Reads one whole message, spinning on `WouldBlock` (a non-blocking stream); `false` at the
    /// end of the stream.
    fn read_message(stream: &mut UnixStream, message: &mut [u8]) -> bool {
        let mut filled = 0;
        while filled < message.len() {
            match stream.read(&mut message[filled..]) {
                Ok(0) => return false,
                Ok(read) => filled += read,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => std::hint::spin_loop(),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => panic!("the floor's channel broke: {error}"),
            }
        }
        true
    }

    fn write_message(stream: &mut UnixStream, message: &[u8]) {
        let mut written = 0;
        while written < message.len() {
            match stream.write(&message[written..]) {
                Ok(sent) => written += sent,
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                Err(error) => panic!("the floor's channel broke: {error}"),
            }
        }
    }

    /// This process's end of a ping-pong with a child.
    pub struct Peer {
        stream: UnixStream,
        child: std::process::Child,
    }

    impl Peer {
        /// Starts the child, both ends waiting as `flavour` says.
        pub fn start(flavour: Flavour) -> Self {
            let (ours, theirs) = UnixStream::pair().expect("a socket pair");
            let child = Command::new(std::env::current_exe().expect("this program"))
                .env(FLOOR_ENV, flavour.word())
                .stdin(Stdio::from(OwnedFd::from(theirs)))
                .spawn()
                .expect("the floor's child");
            ours.set_nonblocking(flavour == Flavour::Poll)
                .expect("a socket");
            let mut peer = Self {
                stream: ours,
                child,
            };
            peer.round_trips(100); // the child is up and both ends are warm
            peer
        }

        /// `count` round trips; how long they took.
        pub fn round_trips(&mut self, count: u64) -> Duration {
            let mut message = [7u8; MESSAGE];
            let start = Instant::now();
            for i in 0..count {
                message[..8].copy_from_slice(&i.to_le_bytes());
                write_message(&mut self.stream, &message);
                assert!(read_message(&mut self.stream, &mut message));
                assert_eq!(message[..8], i.to_le_bytes());
            }
            start.elapsed()
        }
    }

    impl Drop for Peer {
        fn drop(&mut self) {
            let _ = self.stream.shutdown(std::net::Shutdown::Write);
            let _ = self.child.wait();
        }
    }
}
