//! opsdeck: a terminal operations console for one shop on several clouds.
//!
//! Read flow: providers → collector → Fleet → app → ui. See ARCHITECTURE.md.

pub mod actions;
pub mod alloc_tuning;
pub mod app;
pub mod clock;
pub mod collector;
pub mod config;
pub mod credentials;
pub mod export;
pub mod fault_injection;
pub mod format;
pub mod logging;
pub mod model;
pub mod providers;
pub mod redaction;
pub mod runbook;
pub mod runtime;
pub mod slo;
pub mod snapshot;
pub mod startup;
pub mod terminal;
pub mod theme;
pub mod timeline;
pub mod toml_file;
pub mod ui;
