//! Topping up a worker: sending it tasks until `DEPTH` are in flight, the retried ones first,
//! then the pool's queue, waiting for one only when the worker is idle.

use std::sync::Arc;
use std::time::Instant;

use super::{Driver, Line, Next, Sent, DEPTH};
use crate::error::TaskError;
use crate::pool::queue::{Popped, Wait};
use crate::process_pool::task::{ProcessJob, Request};
use crate::process_pool::wire::{Outgoing, Task};
use crate::process_pool::worker::Worker;

/// Inputs larger than this are sent only to an idle worker. A worker writing a large reply
/// and the pool writing a large task could otherwise each wait for the other to read.
const PIPELINE_LIMIT: usize = 64 << 10;

/// What the driver found to send next.
enum Taken {
    Job(Arc<dyn ProcessJob>),
    /// Nothing to send now: go and wait for a reply.
    Nothing,
    /// The worker's time is over.
    Over(Next),
}

impl Driver<'_> {
    /// Sends tasks until `DEPTH` are in flight: the retried ones first, then the queue;
    /// waits for one only when the worker is idle. `Some` when the worker's time is over.
    pub(super) fn top_up(&mut self, worker: &mut Worker, line: &mut Line<'_>) -> Option<Next> {
        let limit = self.shared.settings.max_tasks_per_child;
        while line.in_flight.len() < DEPTH && limit.is_none_or(|limit| line.sent < limit) {
            let idle = line.in_flight.is_empty();
            if !idle && !line.busy.everyone() {
                break; // an idle worker can take the next task at once
            }
            let job = match self.take(idle) {
                Taken::Job(job) => job,
                Taken::Nothing => break,
                Taken::Over(next) => return Some(next),
            };
            let Some(request) = self.sendable(&job) else {
                continue;
            };
            if !idle && request.input.len() > PIPELINE_LIMIT {
                self.retry.push_front(job);
                break;
            }
            if let Some(next) = self.send(worker, line, job, &request) {
                return Some(next);
            }
        }
        None
    }

    /// The next task for this worker: a retried one, or one from the queue, for which an idle
    /// worker waits (at most `idle_timeout`).
    fn take(&mut self, idle: bool) -> Taken {
        if let Some(job) = self.retry.pop_front() {
            return Taken::Job(job);
        }
        let wait = match (idle, self.shared.settings.idle_timeout) {
            (false, _) => Wait::No,
            (true, None) => Wait::Forever,
            (true, Some(idle)) => Instant::now()
                .checked_add(idle)
                .map_or(Wait::Forever, Wait::Until),
        };
        match self.next_job(wait) {
            Popped::Job(job) => Taken::Job(job),
            Popped::Empty => Taken::Nothing,
            Popped::TimedOut => Taken::Over(Next::Idle),
            Popped::Closed if idle => Taken::Over(Next::Stop),
            Popped::Closed => Taken::Nothing,
        }
    }

    /// What to send for `job`, if it should go to the worker; if not, it was done already
    /// (killed while waiting to be sent again), or it is finished here with why it cannot go.
    fn sendable(&self, job: &Arc<dyn ProcessJob>) -> Option<Request> {
        if job.is_done() {
            return None;
        }
        if let Some(error) = self.shared.lifecycle.broken_error() {
            job.finish(Err(error));
            return None;
        }
        let request = job.request();
        let len = task(&request).task.len();
        let max_frame = self.shared.settings.max_frame;
        if len > max_frame {
            // The channel would refuse it, and a refused send means a dead worker below.
            job.finish(Err(TaskError::codec(format!(
                "the arguments take {len} bytes, over the pool's frame limit of {max_frame} bytes"
            ))));
            return None;
        }
        Some(request)
    }

    /// Sends `job` to `worker`. `Some` when the worker's time is over: it is gone, or (idle
    /// until now) it has begun a task that was killed meanwhile.
    fn send(
        &mut self,
        worker: &mut Worker,
        line: &mut Line<'_>,
        job: Arc<dyn ProcessJob>,
        request: &Request,
    ) -> Option<Next> {
        let idle = line.in_flight.is_empty();
        self.next_id += 1;
        let sent = {
            let _span = job.span().enter();
            worker.channel.send_task(self.next_id, &task(request))
        };
        if sent.is_err() {
            // The worker is gone; this task never reached it, and goes to the next worker.
            // But when the pool is stopping every worker (`kill_workers`), there is no next
            // worker, and the task was to be this one's running task, shown running since its
            // claim (`Future::is_running`): it fails as a running task does then, with the
            // worker's death, rather than as a queued one (`Cancelled`).
            if self.shared.is_stopping() && idle {
                line.in_flight.push_back(Sent {
                    job,
                    id: self.next_id,
                    started: None,
                });
            } else {
                self.retry.push_front(job);
            }
            return Some(self.replace_dead(worker, &mut line.in_flight));
        }
        line.in_flight.push_back(Sent {
            job,
            id: self.next_id,
            started: idle.then(Instant::now),
        });
        line.busy.set(true);
        line.sent += 1;
        if idle && !self.begin_front(worker, &line.in_flight) {
            let cancelled = TaskError::Cancelled;
            return Some(self.replace_broken(worker, &mut line.in_flight, cancelled));
        }
        None
    }

    /// The next job from the queue, claimed (a job cancelled while queued is skipped).
    pub(super) fn next_job(&self, wait: Wait) -> Popped<Arc<dyn ProcessJob>> {
        loop {
            match self.shared.queue.pop(wait, &mut ()) {
                Popped::Job(job) if !job.claim() => {}
                popped => return popped,
            }
        }
    }
}

/// The frame's view of `request`.
fn task(request: &Request) -> Outgoing<'_> {
    Outgoing {
        task: Task {
            call: request.call,
            name: request.name,
            input: request.input.bytes(),
        },
        memory: request.input.memory(),
    }
}
