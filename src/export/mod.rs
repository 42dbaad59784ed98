//! `opsdeck export`'s library half: the Fleet as Prometheus metric families
//! (`families`, the contract), label hygiene (`label`) and the two text
//! expositions (`exposition`). The HTTP server is the binary's
//! (`commands/export.rs`); nothing here does I/O.

pub mod exposition;
pub mod families;
pub mod label;

pub use exposition::{Format, render};
pub use families::{FAMILIES, Family, Series, families};
