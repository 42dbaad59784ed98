//! Decode a JSON answer as it arrives. An Alertmanager holding 100,000 alerts
//! answers about 70 MB: read whole, that body and what is parsed from it would
//! sit in memory together, and parsing it on an async worker would stall the
//! console for the better part of a second. Here the chunks are handed to the
//! blocking pool as they come and parsed there, so at most a few chunks of the
//! body are held at once.

use std::io::Read;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use super::ProviderError;
use super::http::transport_error;

/// Streamed answers are larger than the ones read whole (see
/// [`super::http::MAX_BODY_BYTES`]) but not unbounded: a peer that never stops
/// sending is cut off here.
pub const MAX_STREAMED_BYTES: usize = 512 * 1024 * 1024;

/// Chunks in flight between the network and the parser.
const CHUNKS_IN_FLIGHT: usize = 8;

/// Decode `resp`'s body as `T` while it is still arriving, refusing one over `max` bytes.
pub async fn decode<T: DeserializeOwned + Send + 'static>(
    what: &str,
    mut resp: reqwest::Response,
    max: usize,
) -> Result<T, ProviderError> {
    let too_big = || ProviderError::BadResponse(format!("{what}: answer larger than {max} bytes"));
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(too_big());
    }
    let (tx, rx) = mpsc::channel::<Bytes>(CHUNKS_IN_FLIGHT);
    let label = what.to_string();
    let parser = tokio::task::spawn_blocking(move || {
        let reader = std::io::BufReader::with_capacity(64 * 1024, ChunkReader { rx, current: Bytes::new() });
        serde_json::from_reader::<_, T>(reader)
            .map_err(|e| ProviderError::BadResponse(format!("{label}: unreadable answer: {e}")))
    });
    let mut read = 0usize;
    // A transport failure or an oversized body is the cause, whatever the parser
    // then says about the truncated text.
    let mut cut_short = None;
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                read = read.saturating_add(chunk.len());
                if read > max {
                    cut_short = Some(too_big());
                    break;
                }
                // The parser stopped early (the text is already unreadable): its error says why.
                if tx.send(chunk).await.is_err() {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                cut_short = Some(transport_error(what, &e));
                break;
            }
        }
    }
    drop(tx);
    let parsed =
        parser.await.map_err(|e| ProviderError::BadResponse(format!("{what}: reading the answer failed: {e}")))?;
    match cut_short {
        Some(e) => Err(e),
        None => parsed,
    }
}

/// The body's chunks as a byte stream, for the blocking parser.
struct ChunkReader {
    rx: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(next) => self.current = next,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
