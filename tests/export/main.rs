//! Export the estate: `opsdeck export` (the built binary) polls the sources as the
//! console does and serves them to Prometheus. One test binary; modules:
//!
//! - `exporter`: start/stop the binary, scrape it, read the exposition (no opsdeck code).
//! - `demo`: the embedded demo exported: every family with HELP/TYPE, `promtool
//!   check metrics` on the text format, OpenMetrics on request, /healthz.
//! - `lifecycle`: a bad `--listen`, a port in use (exit 2), SIGTERM / SIGINT (exit 0).
//! - `moto`: generated AWS estates in a real moto: the exported groups, DNS weights
//!   and alerts equal the generator's truth; two exporters write the same series.
//! - `plane`: a console reading Prometheus shows what a direct read of moto shows,
//!   and acts on the cloud through an act-only source.
//! - `prometheus`: the real Debian Prometheus scrapes the exporter (`up == 1`, the
//!   series it stores equal the exporter's own).

#[path = "../support/mod.rs"]
mod support;

#[path = "../support/aws_seeded.rs"]
#[allow(dead_code)] // each story binary uses a different part
mod aws_seeded;

mod demo;
mod exporter;
mod lifecycle;
mod moto;
mod plane;
mod prometheus;
