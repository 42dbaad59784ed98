//! Faults in the sources, met the way an operator meets them: every source kind
//! behind a misbehaving front (or, for the demo, a wrapper told to fail, hang or
//! panic), polled by a real `Collector` while the real `App` state machine answers
//! keys and draws frames on a `TestBackend`. For every fault: a key is answered
//! within 50 ms, the source goes stale with its last good time and a one-line
//! reason while the demo keeps updating, and it recovers by itself when the fault
//! ends. A long fault leaves the task count and the buffers bounded.
//!
//! - `matrix`: the fault families and the run over all of them; `rig`: the
//!   collector, App and TestBackend they run in; `http`: the misbehaving front.
//! - One module per source kind: `demo`, `monitoring` (Prometheus, Alertmanager),
//!   `aws`, `azure`, `aliyun`.
//! - `lost_answers`: acting during faults.

mod http;
mod matrix;
mod rig;

mod aliyun;
mod aws;
mod azure;
mod demo;
mod lost_answers;
mod monitoring;
