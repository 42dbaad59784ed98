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
    resp: reqwest::Response,
    max: usize,
) -> Result<T, ProviderError> {
    decode_with(what, resp, max, |body| serde_json::from_reader(body)).await
}

/// As [`decode`], with the parse given: e.g. a `DeserializeSeed` that compares
/// each item with what the last answer said as it is read.
pub async fn decode_with<T: Send + 'static>(
    what: &str,
    mut resp: reqwest::Response,
    max: usize,
    parse: impl FnOnce(&mut dyn Read) -> Result<T, serde_json::Error> + Send + 'static,
) -> Result<T, ProviderError> {
    let too_big = || ProviderError::BadResponse(format!("{what}: answer larger than {max} bytes"));
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(too_big());
    }
    let (tx, rx) = mpsc::channel::<Bytes>(CHUNKS_IN_FLIGHT);
    let label = what.to_string();
    let parser = tokio::task::spawn_blocking(move || {
        let mut reader = std::io::BufReader::with_capacity(64 * 1024, ChunkReader { rx, current: Bytes::new() });
        parse(&mut reader).map_err(|e| ProviderError::BadResponse(format!("{label}: unreadable answer: {e}")))
    });
    let mut read = 0usize;
    // A transport failure or an oversized body is the cause, whatever the parser
    // then says about the truncated text.
    let mut cut_short = None;
    loop {
        // The parser can stop before the body ends (the text is already
        // unreadable): then waiting for a slow peer's next chunk is pointless.
        let next = tokio::select! {
            next = resp.chunk() => next,
            _ = tx.closed() => break,
        };
        match next {
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// Serve one raw HTTP/1.1 answer: `head` (status line and headers), then each
    /// of `parts`, then close the connection.
    async fn serve_once(head: &'static str, parts: Vec<Vec<u8>>) -> String {
        serve(head, parts, false).await
    }

    /// As [`serve_once`]; with `hold`, the connection then stays open, silent.
    async fn serve(head: &'static str, parts: Vec<Vec<u8>>, hold: bool) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let mut req = [0u8; 4096];
            let _ = sock.read(&mut req).await;
            let _ = sock.write_all(head.as_bytes()).await;
            for p in parts {
                if sock.write_all(&p).await.is_err() {
                    return;
                }
            }
            if hold {
                tokio::time::sleep(std::time::Duration::from_secs(600)).await;
            }
        });
        format!("http://{addr}/")
    }

    async fn get(url: &str) -> reqwest::Response {
        reqwest::get(url).await.expect("answer")
    }

    /// `n` alerts' worth of JSON in one chunked answer, one chunk per alert.
    fn chunked(items: &[String]) -> Vec<Vec<u8>> {
        let mut body = vec![b"1\r\n[\r\n".to_vec()];
        for (i, item) in items.iter().enumerate() {
            let text = if i == 0 { item.clone() } else { format!(",{item}") };
            body.push(format!("{:x}\r\n{text}\r\n", text.len()).into_bytes());
        }
        body.push(b"1\r\n]\r\n0\r\n\r\n".to_vec());
        body
    }

    const CHUNKED: &str = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";

    #[tokio::test]
    async fn a_body_in_many_chunks_decodes_whole() {
        let items: Vec<String> = (0..5000).map(|i| format!(r#"{{"k{i}":"välue {i}"}}"#)).collect();
        let url = serve_once(CHUNKED, chunked(&items)).await;
        let got: Vec<BTreeMap<String, String>> =
            decode("GET x", get(&url).await, MAX_STREAMED_BYTES).await.expect("decoded");
        assert_eq!(got.len(), 5000);
        assert_eq!(got[4999].get("k4999").map(String::as_str), Some("välue 4999"));
    }

    #[tokio::test]
    async fn a_body_past_the_cap_is_refused_for_its_size_not_its_truncation() {
        let items: Vec<String> = (0..200).map(|i| format!(r#""item {i}""#)).collect();
        let url = serve_once(CHUNKED, chunked(&items)).await;
        let err = decode::<Vec<String>>("GET x", get(&url).await, 500).await.expect_err("too big");
        assert_eq!(err, ProviderError::BadResponse("GET x: answer larger than 500 bytes".into()));
        // Said up front when the length is announced.
        let url = serve_once("HTTP/1.1 200 OK\r\ncontent-length: 501\r\n\r\n", vec![vec![b' '; 501]]).await;
        let err = decode::<Vec<String>>("GET x", get(&url).await, 500).await.expect_err("too big");
        assert_eq!(err, ProviderError::BadResponse("GET x: answer larger than 500 bytes".into()));
    }

    #[tokio::test]
    async fn a_connection_dropped_mid_body_is_said_so_not_blamed_on_the_truncated_text() {
        let items: Vec<String> = (0..50).map(|i| format!(r#""item {i}""#)).collect();
        let mut parts = chunked(&items);
        parts.truncate(20); // the peer goes away before the last chunk
        let url = serve_once(CHUNKED, parts).await;
        let err = decode::<Vec<String>>("GET x", get(&url).await, MAX_STREAMED_BYTES).await.expect_err("cut");
        let ProviderError::BadResponse(words) = &err else { panic!("{err:?}") };
        assert!(words.starts_with("GET x: body cut short"), "{words}");
        assert!(!words.contains("unreadable"), "{words}");
    }

    #[tokio::test]
    async fn unreadable_text_is_reported_at_once_with_serdes_place() {
        // The peer sends the unreadable start and then nothing, never ending the
        // body: the read must stop at the parser's error, not wait for the rest.
        let url = serve(CHUNKED, vec![b"5\r\n[1,x,\r\n".to_vec()], true).await;
        let read = decode::<Vec<u32>>("GET x", get(&url).await, MAX_STREAMED_BYTES);
        let err = tokio::time::timeout(std::time::Duration::from_secs(30), read)
            .await
            .expect("the read stopped at the unreadable text")
            .expect_err("bad json");
        assert!(err.to_string().contains("GET x: unreadable answer: expected value at line 1 column 4"), "{err}");
    }
}
