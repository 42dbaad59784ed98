//! Watch an estate: what each cloud and monitoring source really holds must be
//! what opsdeck shows, in the console's panes, the snapshot JSON and the binary's
//! output. One test binary; each cloud's peer tests are a module of it:
//!
//! - `aws_moto`, `aws_estate`: AWS against a real moto server (a seeded account,
//!   generated estates, a partial region); `aws_concurrent`: the reads of one
//!   poll in flight together, seen through a slow front.
//! - `aws_routes`: where alarms page (SNS topics and subscriptions), generated
//!   estates in moto.
//! - `azure_action_groups`: where Azure alerts page (rules → action groups), generated
//!   estates on the local ARM.
//! - `azure`: ARM and Entra ID stand-ins serving the official examples, and
//!   generated estates.
//! - `aliyun_contact_groups`: where Alibaba Cloud alerts page (CloudMonitor contact
//!   groups), generated contact books on the signature-checking stand-in.
//! - `aliyun`: the signature-checking Alibaba Cloud stand-in, and generated estates.
//! - `prometheus`: the real Prometheus, Alertmanager and pushgateway.
//! - `am_history`: Alertmanager's own history for the incident timeline, generated
//!   estates in a real Alertmanager, merged with a console's journal.
//! - `big_estate`: an Alertmanager answer past the 32 MB cap, read whole by the binary.
//! - `links`: `[[links]]` probed through a delaying proxy, and a PromQL figure.
//! - `render`: every pane of the deterministic demo as insta snapshots.

#[path = "../support/mod.rs"]
mod support;

// Estate generators and the TLS front, shared with other story binaries.
#[path = "../support/aliyun_routes.rs"]
mod aliyun_routes;
#[path = "../support/aws_seeded.rs"]
#[allow(dead_code)] // each story binary uses a different part
mod aws_seeded;
#[path = "../support/azure_estate.rs"]
#[allow(dead_code)] // each story binary uses a different part
mod azure_estate;
#[path = "../support/azure_prices.rs"]
#[allow(dead_code)] // each story binary uses a different part
mod azure_prices;
#[path = "../support/azure_routes.rs"]
mod azure_routes;
#[path = "../support/sns_estate.rs"]
mod sns_estate;
#[path = "../support/tls_front.rs"]
mod tls_front;

mod aliyun;
mod aliyun_contact_groups;
mod am_history;
mod am_routes;
mod aws_concurrent;
mod aws_estate;
mod aws_moto;
mod aws_routes;
mod azure;
mod azure_action_groups;
mod big_estate;
mod links;
mod prices;
mod prometheus;
mod prometheus_opsdeck;
mod render;
mod slo;
