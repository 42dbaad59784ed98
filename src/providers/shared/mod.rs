//! What several providers do alike, written once: each module has one job.

pub mod cost_cache;
pub mod price_cache;
pub mod severity;
