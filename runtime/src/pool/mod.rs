//! What every pool shares, whatever runs its work: its lifecycle (broken, live workers,
//! waiting for them, the exit handler) and its closable job queue. The protocol is in
//! `README.md` beside this file.

pub(crate) mod lifecycle;
pub(crate) mod queue;
