//! Awaiting a worker's reply to the oldest task it holds, until that task's deadline, and
//! finishing the task's future from it.

use std::collections::VecDeque;
use std::time::Instant;

use super::{Driver, Next, Sent};
use crate::error::{Deadline, TaskError};
use crate::process_pool::wire::{Frame, RecvError};
use crate::process_pool::worker::Worker;

impl Driver<'_> {
    /// Waits for the reply to the front task, until its deadline if it has one (counted from
    /// when the worker started it), and handles what came. `Some` when the worker's time is
    /// over.
    pub(super) fn await_reply(
        &mut self,
        worker: &mut Worker,
        in_flight: &mut VecDeque<Sent>,
    ) -> Option<Next> {
        let front = in_flight
            .front()
            .expect("a reply is awaited for the front task");
        let deadline = front
            .started
            .zip(front.job.timeout())
            .and_then(|(start, timeout)| start.checked_add(timeout));
        let received = worker.channel.recv(deadline);
        self.on_receive(worker, in_flight, received)
    }

    /// Handles what the worker's channel gave while waiting for the front task's reply.
    fn on_receive(
        &mut self,
        worker: &mut Worker,
        in_flight: &mut VecDeque<Sent>,
        received: Result<Frame, RecvError>,
    ) -> Option<Next> {
        let front = in_flight
            .front()
            .expect("a reply is awaited for the front task");
        let error = match received {
            Ok(frame) if frame.id == front.id => return self.on_reply(worker, in_flight, frame),
            Ok(frame) => TaskError::codec(format!(
                "the worker answered task {} while running task {}",
                frame.id, front.id
            )),
            Err(RecvError::TimedOut) => {
                let timeout = front
                    .job
                    .timeout()
                    .expect("only a task with a timeout times out");
                TaskError::timed_out(Deadline::Task { timeout })
            }
            Err(RecvError::Corrupt(reason)) => TaskError::codec(reason),
            Err(RecvError::Closed | RecvError::Truncated | RecvError::Io) => {
                return Some(self.replace_dead(worker, in_flight));
            }
        };
        Some(self.replace_broken(worker, in_flight, error))
    }

    /// The front task's reply: finish its future, and the worker moves on to the next.
    fn on_reply(
        &mut self,
        worker: &mut Worker,
        in_flight: &mut VecDeque<Sent>,
        frame: Frame,
    ) -> Option<Next> {
        let done = in_flight.pop_front().expect("the front exists");
        let input = done.job.take_input();
        let (id, shared) = (frame.id, frame.is_shared_reply());
        {
            let _span = done.job.span().enter();
            match frame.reply(worker.pid()) {
                Ok((payload, pid)) => done.job.finish(Ok((payload.bytes(), pid))),
                Err(error) => done.job.finish(Err(error)),
            }
        }
        // Decoded (or dropped): the worker may write that region again. A failed send means
        // a dead worker, which the next wait finds.
        if shared {
            let _ = worker.channel.send_release(id);
        }
        if let Some(input) = input {
            self.shared.spare_inputs.give_input(input);
        }
        if let Some(next) = in_flight.front_mut() {
            next.started = Some(Instant::now());
        }
        if !self.begin_front(worker, in_flight) {
            return Some(self.replace_broken(worker, in_flight, TaskError::Cancelled));
        }
        None
    }

    /// Records that the worker now runs the front task; `false` if that task was killed, so
    /// the worker (already running it) must be stopped.
    pub(super) fn begin_front(&self, worker: &Worker, in_flight: &VecDeque<Sent>) -> bool {
        in_flight
            .front()
            .is_none_or(|front| front.job.start(&worker.signaller))
    }
}
