//! `opsdeck export`: poll the configured sources exactly as the console does (the
//! same collector: intervals, timeouts, backoff, partial sections) and serve the
//! latest Fleet to Prometheus, so many consoles read one poll of the clouds.
//!
//! - `GET /metrics`: the families of `opsdeck::export` built from the latest Fleet
//!   at each scrape; OpenMetrics when `Accept` asks for it, else text 0.0.4.
//! - `GET /healthz`: 200 `ok` once the collector has published a Fleet from at
//!   least one poll (of any source, whatever its outcome), 503 before. It says the
//!   exporter is serving polled data; whether each cloud answered is
//!   `opsdeck_source_up`, which alerting rules should watch instead.
//!
//! The address is bound before anything else starts, so a bad `--listen` or a
//! port in use is one line on stderr and exit 2. SIGTERM or SIGINT stop taking
//! connections, let responses in flight finish (at most [`GRACE`]), and exit 0.

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use opsdeck::clock::SystemClock;
use opsdeck::collector::Collector;
use opsdeck::export::{Format, families, render};
use opsdeck::model::Fleet;
use opsdeck::startup;
use tokio::sync::watch;

use crate::cli::Cli;

/// How long responses in flight may take to finish after a stop signal.
const GRACE: Duration = Duration::from_secs(10);

/// `opsdeck export --listen ADDR`.
pub fn run(cli: &Cli, listen: &str) -> anyhow::Result<()> {
    let listener = bind(listen)?;
    let (config, path) = startup::load_config(cli.config.as_deref())?;
    let built = startup::build(&config, cli.demo.as_deref())?;
    let addr = listener.local_addr().context("reading the listening address")?;
    let what = path.map_or_else(|| "the demo".to_string(), |p| p.display().to_string());
    let rt = super::async_runtime()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).context("serving the listening socket")?;
        let sources = built.sources.len();
        let collector = Collector::spawn_slos(
            built.sources,
            Arc::new(SystemClock),
            built.demo,
            built.rates.clone(),
            built.slos.clone(),
        );
        let app = Router::new()
            .route("/metrics", get(metrics))
            .route("/healthz", get(healthz))
            .with_state(collector.fleet.clone());
        eprintln!("opsdeck export: {sources} sources of {what}; serving http://{addr}/metrics and /healthz");
        log::info!("export: serving http://{addr}/metrics for {sources} sources of {what}");
        serve(listener, app).await?;
        drop(collector);
        eprintln!("opsdeck export: stopped");
        log::info!("export: stopped");
        Ok(())
    })
}

/// The listening socket for `listen` (HOST:PORT; a name is resolved once, here).
fn bind(listen: &str) -> anyhow::Result<TcpListener> {
    let addrs: Vec<SocketAddr> = listen
        .to_socket_addrs()
        .map_err(|e| {
            anyhow!("--listen {listen:?} is not an address to listen on (HOST:PORT, e.g. 127.0.0.1:9808): {e}")
        })?
        .collect();
    if addrs.is_empty() {
        return Err(anyhow!("--listen {listen:?} names no address to listen on"));
    }
    let listener = TcpListener::bind(&addrs[..]).map_err(|e| anyhow!("cannot listen on {listen}: {e}"))?;
    listener.set_nonblocking(true).with_context(|| format!("cannot listen on {listen}"))?;
    Ok(listener)
}

/// Serve until SIGTERM or SIGINT, then drain: no new connections, responses in
/// flight finish, idle keep-alive connections close; after [`GRACE`] stop anyway.
async fn serve(listener: tokio::net::TcpListener, app: Router) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        stop_signal().await;
        let _ = stop_tx.send(true);
    });
    let mut drained = stop_rx.clone();
    let mut stop = stop_rx;
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stop.wait_for(|s| *s).await;
    });
    tokio::select! {
        r = std::future::IntoFuture::into_future(server) => r.context("serving HTTP"),
        _ = async {
            let _ = drained.wait_for(|s| *s).await;
            tokio::time::sleep(GRACE).await;
        } => {
            log::warn!("export: responses still in flight {GRACE:?} after the stop signal; stopping anyway");
            Ok(())
        }
    }
}

/// SIGTERM (systemd, container runtimes) or SIGINT (Ctrl-C).
async fn stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                log::warn!("export: cannot watch SIGTERM ({e}); Ctrl-C still stops");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
    log::info!("export: stop signal; finishing responses in flight");
}

type FleetWatch = watch::Receiver<Arc<Fleet>>;

async fn metrics(State(fleet): State<FleetWatch>, headers: HeaderMap) -> Response {
    let fleet = fleet.borrow().clone();
    let format = Format::from_accept(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    match render(families(&fleet), format) {
        Ok(body) => ([(header::CONTENT_TYPE, format.content_type())], body).into_response(),
        Err(e) => {
            log::error!("export: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "writing the exposition failed\n").into_response()
        }
    }
}

/// 200 once a Fleet from a poll is published (generation 0 is the empty Fleet the
/// collector starts with), 503 until then.
async fn healthz(State(fleet): State<FleetWatch>) -> Response {
    if fleet.borrow().generation > 0 {
        (StatusCode::OK, "ok\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "waiting for the first poll\n").into_response()
    }
}
