//! Act on an estate: failover, drain, scale and acknowledge, from the console's
//! keys and palette and from the command line, through plan → guardrails →
//! confirmation → one write → audit → a fresh read. One test binary:
//!
//! - `actions`: the console's dialogs and verdicts on the demo (insta snapshots).
//! - `cli_actions`: the runbook commands: dry run by default, exit codes, JSON, audit.
//! - `failover_guards`: the real binary failing over each cloud's DNS steering
//!   (Route 53 in moto, Traffic Manager, GTM), every guard judged.
//! - `cli_intents`: what each action command line asks for, and the exact refusal
//!   of arguments that name no action.
//! - `rto`: a Route 53 failover followed through a local DNS responder: its measured RTO.
//! - `undo`: `opsdeck undo` puts back what the caller's last action changed.
//! - `timeline`: a demo drill read back as the incident timeline, on an injected clock.

#[path = "../support/mod.rs"]
mod support;

// The Azure estate generator and the TLS front, shared with other story binaries.
#[path = "../support/azure_estate.rs"]
#[allow(dead_code)] // the failover needs only part of the estate
mod azure_estate;
#[path = "../support/azure_prices.rs"]
#[allow(dead_code)] // the estate's stand-in answers prices too
mod azure_prices;
#[path = "../support/tls_front.rs"]
mod tls_front;

mod actions;
mod cli_actions;
mod cli_intents;
mod failover_guards;
mod rto;
mod timeline;
mod undo;
