//! Test support: a local HTTP server that answers every request with one canned
//! answer (or never answers), for the error mappers' tests against real clients.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

/// What the server does with each request.
#[derive(Clone)]
pub enum Answer {
    /// Status line (e.g. "500 Internal Server Error"), content type, body.
    Reply(&'static str, &'static str, String),
    /// Read the request, then say nothing.
    Hang,
}

/// Start the server; its base URL. Threads end with the test process.
pub fn serve(answer: Answer) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                let _ = conn.set_read_timeout(Some(Duration::from_millis(300)));
                let _ = conn.read(&mut buf);
                match answer {
                    Answer::Reply(status, content_type, body) => {
                        let _ = write!(
                            conn,
                            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    Answer::Hang => std::thread::sleep(Duration::from_secs(60)),
                }
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// A base URL nothing listens on: connections are refused.
pub fn closed() -> String {
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    format!("http://127.0.0.1:{port}")
}

/// Werkzeug's 500 page, as moto answers when a handler raises.
pub const MOTO_500: &str = "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.</p>\n";

/// The sentence opsdeck makes of [`MOTO_500`] after "<operation>: ".
pub const MOTO_500_WORDS: &str = "HTTP 500 Internal Server Error: The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.";

/// No error text may carry a Debug dump or say its kind twice.
pub fn assert_clean(s: &str) {
    for bad in [
        "ServiceError(",
        "Unhandled(",
        "DispatchFailure",
        "ConnectorError",
        " { ",
        "os error",
        "error sending request",
        "failed to execute `reqwest` request",
    ] {
        assert!(!s.contains(bad), "{bad:?} in {s}");
    }
    for kind in ["unreachable: ", "bad response: ", "throttled: ", "authentication failed: "] {
        assert!(s.matches(kind).count() <= 1, "{kind:?} twice in {s}");
    }
    assert!(!s.chars().any(char::is_control), "{s:?}");
}
