//! Survive faults: whatever a source, the network or the user throws at it, the
//! console keeps answering, says what is wrong in one line of words, changes
//! nothing it should not, and recovers by itself. One test binary:
//!
//! - `faults`: every source kind through every fault family (unreachable, too
//!   slow, refusing, unreadable), under a real collector and App, and acting
//!   while sources fail (lost answers are re-read, never re-sent).
//! - `aws_faults`: the AWS provider and `opsdeck doctor` behind a misbehaving front.
//! - `collector`: a failing or hanging source never stops the others.
//! - `tls`: private CAs trusted through `ca_file`, certificate problems in words.
//! - `config_messages`: each config mistake is reported with the same words and
//!   file:line:column, wherever the kind's table is read.
//! - `bad_input`: every case of tests/bad_input/catalogue.toml is refused clearly
//!   and changes nothing.
//!
//! A panic in a provider or in the render path is met in a real terminal: see
//! tests/terminal/.

#[path = "../support/mod.rs"]
mod support;

// The Azure estate generator and the TLS front, shared with other story binaries.
#[path = "../support/azure_estate.rs"]
#[allow(dead_code)] // the estate generator serves more tests than these
mod azure_estate;
#[path = "../support/azure_prices.rs"]
#[allow(dead_code)] // the estate's stand-in answers prices too
mod azure_prices;
#[path = "../support/tls_front.rs"]
mod tls_front;

mod aws_faults;
mod bad_input;
mod collector;
mod config_messages;
mod faults;
mod tls;
