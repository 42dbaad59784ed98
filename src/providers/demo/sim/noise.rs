//! Deterministic jitter: the same estate at the same instant gives the same figures.

use crate::model::CloudKind;

/// Deterministic noise in [-1, 1] for (seed, stream, time bucket).
pub(super) fn noise(seed: u64, stream: u64, bucket: i64) -> f64 {
    // splitmix64: a well-known, tiny, stateless mixer; enough for plausible jitter.
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (bucket as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z as f64 / u64::MAX as f64) * 2.0 - 1.0
}

/// One noise stream per (cloud, figure), so figures do not move in step.
pub(super) fn stream(cloud: CloudKind, what: u64) -> u64 {
    (cloud as u64 + 1) * 1000 + what
}
