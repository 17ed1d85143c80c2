//! The `tracing` feature: a recording subscriber sees a span per task on thread and process
//! pools (its kind, pool, function and id, inside the submitter's span), and the events of a
//! worker process's life: its start, its death when killed from outside (inside the span of
//! the task it was running), its replacement, its recycling and a kill for a deadline.

mod common;

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use common::parked::{await_started, forever, park_after_writing, scratch, worker_pid};
use common::process::{self, Process};
use common::PATIENCE;
use parallel::{parallel, ProcessPool, TaskError, ThreadPool};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// A span as the subscriber saw it.
#[derive(Debug, Clone)]
struct SpanSeen {
    id: u64,
    name: &'static str,
    target: String,
    fields: HashMap<String, String>,
    parent: Option<u64>,
}

/// An event as the subscriber saw it.
#[derive(Debug, Clone)]
struct EventSeen {
    level: Level,
    target: String,
    message: String,
    fields: HashMap<String, String>,
    /// The span it happened in.
    span: Option<u64>,
}

/// Records every span and event of the program (tests filter by what is theirs).
#[derive(Default)]
struct Recorder {
    next: AtomicU64,
    spans: Mutex<HashMap<u64, SpanSeen>>,
    events: Mutex<Vec<EventSeen>>,
}

thread_local! {
    /// The spans entered on this thread, innermost last.
    static STACK: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

fn current_span() -> Option<u64> {
    STACK.with(|stack| stack.borrow().last().copied())
}

/// Collects fields as text (`str`s without quotes).
struct Fields<'a>(&'a mut HashMap<String, String>, Option<&'a mut String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        match (&mut self.1, field.name()) {
            (Some(message), "message") => **message = text,
            _ => {
                self.0.insert(field.name().to_owned(), text);
            }
        }
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attributes: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut fields = HashMap::new();
        attributes.record(&mut Fields(&mut fields, None));
        let parent = match attributes.parent() {
            Some(parent) => Some(parent.into_u64()),
            None if attributes.is_contextual() => current_span(),
            None => None,
        };
        let seen = SpanSeen {
            id,
            name: attributes.metadata().name(),
            target: attributes.metadata().target().to_owned(),
            fields,
            parent,
        };
        self.spans.lock().unwrap().insert(id, seen);
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(seen) = self.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut Fields(&mut seen.fields, None));
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = HashMap::new();
        let mut message = String::new();
        event.record(&mut Fields(&mut fields, Some(&mut message)));
        let span = match event.parent() {
            Some(parent) => Some(parent.into_u64()),
            None if event.is_contextual() => current_span(),
            None => None,
        };
        self.events.lock().unwrap().push(EventSeen {
            level: *event.metadata().level(),
            target: event.metadata().target().to_owned(),
            message,
            fields,
            span,
        });
    }

    fn enter(&self, span: &Id) {
        STACK.with(|stack| stack.borrow_mut().push(span.into_u64()));
    }

    fn exit(&self, span: &Id) {
        STACK.with(|stack| {
            let mut stack = stack.borrow_mut();
            if let Some(at) = stack.iter().rposition(|&id| id == span.into_u64()) {
                stack.remove(at);
            }
        });
    }
}

/// The program's recorder, installed once for every test of this binary.
fn recorder() -> &'static Recorder {
    static RECORDER: OnceLock<&'static Recorder> = OnceLock::new();
    RECORDER.get_or_init(|| {
        let recorder: &'static Recorder = Box::leak(Box::default());
        tracing::subscriber::set_global_default(ForwardTo(recorder))
            .expect("no other subscriber in this test binary");
        recorder
    })
}

/// The global subscriber: the leaked recorder, so that tests can read it.
struct ForwardTo(&'static Recorder);

impl Subscriber for ForwardTo {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.0.new_span(span)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        self.0.record(span, values)
    }
    fn record_follows_from(&self, span: &Id, follows: &Id) {
        self.0.record_follows_from(span, follows)
    }
    fn event(&self, event: &Event<'_>) {
        self.0.event(event)
    }
    fn enter(&self, span: &Id) {
        self.0.enter(span)
    }
    fn exit(&self, span: &Id) {
        self.0.exit(span)
    }
}

impl Recorder {
    /// The spans whose `function` field contains `function`.
    fn spans_of(&self, function: &str) -> Vec<SpanSeen> {
        let spans = self.spans.lock().unwrap();
        let mut found: Vec<SpanSeen> = spans
            .values()
            .filter(|span| {
                span.fields
                    .get("function")
                    .is_some_and(|f| f.contains(function))
            })
            .cloned()
            .collect();
        found.sort_by_key(|span| span.id);
        found
    }

    fn span(&self, id: u64) -> SpanSeen {
        self.spans.lock().unwrap()[&id].clone()
    }

    /// The events with `message` whose field `key` is `value`.
    fn events(&self, message: &str, key: &str, value: &str) -> Vec<EventSeen> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|event| event.message == message)
            .filter(|event| event.fields.get(key).map(String::as_str) == Some(value))
            .cloned()
            .collect()
    }

    /// The one event with `message` whose field `key` is `value`.
    fn one_event(&self, message: &str, key: &str, value: impl ToString) -> EventSeen {
        let value = value.to_string();
        let found = self.events(message, key, &value);
        assert_eq!(
            found.len(),
            1,
            "`{message}` with {key} = {value}: {found:#?}"
        );
        found[0].clone()
    }
}

fn thread_work() -> u32 {
    tracing::info!(target: "test", "inside the thread task");
    7
}

#[parallel(threads = 1)]
fn attributed_on_threads(x: u32) -> u32 {
    x + 1
}

#[parallel(processes = 1)]
fn traced_square(x: u64) -> u64 {
    x * x
}

#[test]
fn a_thread_task_runs_inside_its_span_under_the_submitters() {
    let recorder = recorder();
    let pool = ThreadPool::builder().workers(1).build().unwrap();
    let outer = tracing::info_span!("outer", test = "thread task");
    let future = outer.in_scope(|| pool.submit(thread_work));
    assert_eq!(future.result(), Ok(7));
    drop(pool); // the task's span is closed by now

    let spans = recorder.spans_of("thread_work");
    assert_eq!(spans.len(), 1, "{spans:#?}");
    let span = &spans[0];
    assert_eq!(
        (span.name, span.target.as_str()),
        ("task", "parallel::task")
    );
    assert_eq!(span.fields["kind"], "threads");
    assert!(span.fields["pool"].parse::<usize>().is_ok(), "{span:?}");
    assert!(span.fields["task"].parse::<u64>().is_ok(), "{span:?}");
    let outer_id = outer
        .id()
        .expect("the recorder enables every span")
        .into_u64();
    assert_eq!(
        span.parent,
        Some(outer_id),
        "made inside the submitter's span"
    );
    let started = recorder.one_event("worker started", "pool", &span.fields["pool"]);
    assert_eq!(started.fields["kind"], "threads");
    assert!(started.fields["thread"].ends_with("-0"), "{started:?}");
    let inside = recorder.event_in("inside the thread task", span.id);
    assert!(inside.is_some(), "the task ran inside its span");
}

impl Recorder {
    /// The event with `message` seen inside span `span`.
    fn event_in(&self, message: &str, span: u64) -> Option<EventSeen> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .find(|event| event.message == message && event.span == Some(span))
            .cloned()
    }
}

#[test]
fn a_thread_task_that_panics_keeps_its_location_after_leaving_its_span() {
    recorder();
    let pool = ThreadPool::builder().workers(1).build().unwrap();
    let line = line!() + 2;
    let error = pool
        .submit(|| panic!("inside a span"))
        .result()
        .unwrap_err();
    let TaskError::Panicked { location, .. } = &error else {
        panic!("{error:?}");
    };
    let location = location.as_deref().unwrap_or_default();
    assert!(
        location.starts_with(&format!("tests/tracing_spans.rs:{line}:")),
        "{location}"
    );
}

#[test]
fn a_parallel_function_on_threads_and_a_thread_map_have_spans() {
    let recorder = recorder();
    assert_eq!(attributed_on_threads(1).result(), Ok(2));
    let spans = recorder.spans_of("attributed_on_threads");
    assert!(
        spans
            .iter()
            .any(|span| span.name == "task" && span.fields["kind"] == "threads"),
        "{spans:#?}"
    );

    let pool = ThreadPool::builder().workers(2).build().unwrap();
    let doubled: Vec<u64> = pool
        .map(|x: u64| x * 2, 0..10)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(doubled.iter().sum::<u64>(), 90);
    drop(pool);
    let batches: Vec<SpanSeen> = recorder
        .spans_of("tracing_spans::a_parallel_function_on_threads_and_a_thread_map_have_spans")
        .into_iter()
        .filter(|span| span.name == "batch")
        .collect();
    let items: usize = batches
        .iter()
        .map(|span| span.fields["items"].parse::<usize>().unwrap())
        .sum();
    assert_eq!(items, 10, "every item in one batch's span: {batches:#?}");
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_process_task_and_a_process_batch_have_spans_with_the_registered_name() {
    let recorder = recorder();
    let pool = ProcessPool::builder().workers(1).build().unwrap();
    let outer = tracing::info_span!("outer", test = "process task");
    let future = outer.in_scope(|| pool.submit(traced_square, (12,)));
    assert_eq!(future.result(), Ok(144));
    let squares: Vec<u64> = pool
        .map(traced_square, (1..=3).map(|x| (x,)))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(squares, [1, 4, 9]);
    drop(pool);

    let spans = recorder.spans_of("traced_square#fn(u64) -> u64");
    let task = spans
        .iter()
        .find(|span| span.name == "task")
        .unwrap_or_else(|| panic!("no task span: {spans:#?}"));
    assert_eq!(task.target, "parallel::task");
    assert_eq!(task.fields["kind"], "processes");
    assert!(
        task.fields["pool"].parse::<usize>().is_ok(),
        "recorded at submit: {task:?}"
    );
    assert!(task.fields["task"].parse::<u64>().is_ok(), "{task:?}");
    let outer_id = outer
        .id()
        .expect("the recorder enables every span")
        .into_u64();
    assert_eq!(
        task.parent,
        Some(outer_id),
        "made inside the submitter's span"
    );
    let batch = spans.iter().find(|span| span.name == "batch");
    assert!(
        batch.is_some_and(|batch| batch.fields["pool"] == task.fields["pool"]),
        "{spans:#?}"
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_worker_killed_from_outside_is_seen_dying_and_being_replaced() {
    let recorder = recorder();
    let pool = ProcessPool::builder().workers(1).build().unwrap();
    let first = pool.submit(worker_pid, ()).result().unwrap();
    let marker = scratch("doomed");
    let doomed = pool.submit(park_after_writing, (marker.clone(),));
    assert_eq!(await_started(&doomed, &marker), first, "one worker");
    Process::running(first).kill();
    let error = doomed.result_timeout(PATIENCE).unwrap_err();
    assert!(error.is_worker_died(), "{error:?}");
    let second = pool.submit(worker_pid, ()).result().unwrap();
    assert_ne!(first, second);

    let started = recorder.one_event("worker started", "pid", first);
    assert_eq!(
        (started.level, started.target.as_str()),
        (Level::DEBUG, "parallel::worker")
    );
    assert_eq!(started.fields["kind"], "processes");
    assert_eq!(started.fields["slot"], "0");

    let died = recorder.one_event("worker died", "pid", first);
    assert_eq!(died.level, Level::WARN);
    assert_eq!(
        died.fields["exit"],
        process::killed_from_outside().to_string()
    );
    assert_eq!(died.fields["pool"], started.fields["pool"]);
    let running = recorder.span(died.span.expect("inside the running task's span"));
    assert!(
        running.fields["function"].contains("park_after_writing#fn(String)"),
        "{running:?}"
    );

    let replaced = recorder.one_event("worker replaced", "pid", second);
    assert_eq!(replaced.level, Level::INFO);
    assert_eq!(replaced.fields["previous"], first.to_string());
    assert_eq!(replaced.fields["reason"], "died");
    recorder.one_event("worker started", "pid", second);
    drop(pool);
    let retired = recorder.one_event("worker retired", "pid", second);
    assert_eq!(retired.fields["pool"], started.fields["pool"]);
    let _ = std::fs::remove_file(&marker);
}

#[test]
#[cfg_attr(miri, ignore)]
fn recycling_and_a_deadline_kill_are_seen() {
    let recorder = recorder();
    let pool = ProcessPool::builder()
        .workers(1)
        .max_tasks_per_child(1)
        .build()
        .unwrap();
    let first = pool.submit(worker_pid, ()).result().unwrap();
    let second = pool.submit(worker_pid, ()).result().unwrap();
    assert_ne!(first, second);
    let recycled = recorder.one_event("worker recycled", "pid", first);
    assert_eq!(recycled.fields["tasks"], "1");
    let replaced = recorder.one_event("worker replaced", "pid", second);
    assert_eq!(replaced.fields["previous"], first.to_string());
    assert!(
        replaced.fields["reason"].contains("max_tasks_per_child"),
        "{replaced:?}"
    );
    drop(pool);

    let pool = ProcessPool::builder()
        .workers(1)
        .task_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let pid = pool.submit(worker_pid, ()).result().unwrap();
    assert!(pool
        .submit(forever, ())
        .result()
        .unwrap_err()
        .is_timed_out());
    let killed = recorder.one_event("worker killed", "pid", pid);
    assert!(
        killed.fields["reason"].contains("longer than its timeout of 100ms"),
        "{killed:?}"
    );
    let running = recorder.span(killed.span.expect("inside the running task's span"));
    assert!(
        running.fields["function"].contains("forever#fn()"),
        "{running:?}"
    );
}
