//! Keep secrets: where each source's credentials come from (the cloud's own
//! chain, then the OS keyring, in a stated order), each cloud's identities
//! against local stand-ins of their endpoints, the real keyrings, and no secret
//! in any output. One test binary:
//!
//! - `credential_order`: the resolution order of every source kind (a mock store).
//! - `keyring_real`: the Secret Service and the kernel keyring for real, and a
//!   planted secret that appears in no output of a whole session.
//! - `azure_identities`: client certificates and workload identity.
//! - `aliyun_identity`: the ECS RAM role, RamRoleArn profiles and key renewal.
//!
//! The log gate (records scrubbed before the Logs pane and the log file see them)
//! is its own binary, tests/log_gate.rs: it installs the process-global logger.

#[path = "../support/mod.rs"]
mod support;

#[path = "../support/tls_front.rs"]
mod tls_front;

mod aliyun_identity;
mod azure_identities;
mod credential_order;
mod keyring_real;
