//! Failures in words, shared by every provider's error mapper: the cause of a
//! transport failure without the layers of wrappers around it, and the first
//! line worth reading of an error body that is not the API's own error shape.
//!
//! Each mapper says what was asked and what went wrong in one sentence; these
//! helpers give it the second half, never a Rust `Debug` dump and never a
//! prefix the caller will add again.

use std::error::Error;

/// Longest body line quoted in an error: enough for a proxy's or a server's
/// one-sentence explanation, short enough for a stale reason.
const BODY_LINE_CHARS: usize = 160;

/// The innermost cause of `e` (the one that names the problem: "Connection
/// refused", a certificate fault), without the OS error number.
pub fn root_cause(e: &(dyn Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = cause.to_string();
    let text = strip_os_error(&text);
    crate::format::one_line(&crate::credentials::redact(text), 200)
}

/// Whether a transport failure happened while connecting (refused, no route,
/// name not resolved, TLS handshake) rather than after a request was sent.
/// hyper's connector and reqwest both name the connect phase in their layer of
/// the chain; an `io::Error` of a connect kind says so too.
pub fn is_connect_failure(e: &(dyn Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::HostUnreachable
                    | std::io::ErrorKind::NetworkUnreachable
                    | std::io::ErrorKind::AddrNotAvailable
            )
        {
            return true;
        }
        let text = c.to_string();
        if text.contains("(Connect)") || text.contains("connect error") {
            return true;
        }
        cause = c.source();
    }
    false
}

/// "cannot connect: <cause>" or "connection failed: <cause>", for any transport error.
pub fn transport(e: &(dyn Error + 'static)) -> String {
    let cause = root_cause(e);
    if is_connect_failure(e) { format!("cannot connect: {cause}") } else { format!("connection failed: {cause}") }
}

/// "(os error 111)" is for programmers; the words before it say the same.
fn strip_os_error(text: &str) -> &str {
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => &text[..at],
        _ => text,
    }
}

/// "HTTP 500 Internal Server Error", or "HTTP 599" for a status with no reason phrase.
pub fn status_line(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()) {
        Some(reason) => format!("HTTP {status} {reason}"),
        None => format!("HTTP {status}"),
    }
}

/// "HTTP 500 Internal Server Error: <the body's first line>" for an answer
/// that is not the API's own error shape.
pub fn status_with_body(status: u16, body: &[u8]) -> String {
    match body_line(status, body) {
        Some(line) => format!("{}: {line}", status_line(status)),
        None => status_line(status),
    }
}

/// The first line of a body worth quoting: markup stripped (proxies and
/// frameworks answer in HTML), a line that only repeats the status skipped,
/// secrets scrubbed, control characters gone, cut to [`BODY_LINE_CHARS`].
pub fn body_line(status: u16, body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = if looks_like_markup(&text) { strip_tags(&text) } else { text.into_owned() };
    let reason = reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
    let repeats_status = |line: &str| {
        let l = line.trim_start_matches(|c: char| c.is_ascii_digit() || c.is_whitespace());
        l.is_empty() || (!reason.is_empty() && l.eq_ignore_ascii_case(reason))
    };
    let line = text.lines().map(str::trim).find(|l| !l.is_empty() && !repeats_status(l))?;
    let line = crate::format::one_line(&crate::credentials::redact(line), BODY_LINE_CHARS);
    (!line.is_empty()).then_some(line)
}

fn looks_like_markup(text: &str) -> bool {
    let start = text.trim_start();
    start.starts_with('<') && text.contains('>')
}

/// Text between tags, each tag a line break (so `<title>` and `<p>` fall on
/// lines of their own), with the common entities decoded.
fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push('\n');
            }
            '\n' | '\r' if !in_tag => out.push(' '),
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::providers::canned::{MOTO_500, MOTO_500_WORDS};

    #[test]
    fn an_html_error_page_is_its_first_sentence_not_its_markup() {
        assert_eq!(status_with_body(500, MOTO_500.as_bytes()), MOTO_500_WORDS);
        assert_eq!(
            status_with_body(502, b"<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"),
            "HTTP 502 Bad Gateway: nginx"
        );
        assert_eq!(status_with_body(500, b"<html>oops</html>"), "HTTP 500 Internal Server Error: oops");
    }

    #[test]
    fn a_plain_body_gives_its_first_non_empty_line_and_an_empty_one_nothing() {
        assert_eq!(
            status_with_body(503, b"\n\n  upstream connect error\r\nreset reason: overflow"),
            "HTTP 503 Service Unavailable: upstream connect error"
        );
        assert_eq!(status_with_body(500, b"  \n "), "HTTP 500 Internal Server Error");
        assert_eq!(status_with_body(599, b""), "HTTP 599");
        let hostile = body_line(500, b"bad \x1b[31mred\x07 end").expect("a line");
        assert!(!hostile.chars().any(char::is_control), "{hostile:?}");
    }

    #[test]
    fn a_refused_connection_is_named_without_wrappers_or_os_numbers() {
        // A real refusal: bind, learn the port, close, connect.
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
        let err = std::net::TcpStream::connect(("127.0.0.1", port)).expect_err("refused");
        #[derive(Debug)]
        struct Wrapper(std::io::Error);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("io error")
            }
        }
        impl Error for Wrapper {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&self.0)
            }
        }
        let words = transport(&Wrapper(err));
        assert_eq!(words, "cannot connect: Connection refused");
    }
}
