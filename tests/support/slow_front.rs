//! A slow HTTP front for a real server (moto): holds every request a while
//! before forwarding it, and notes which AWS operation it was, for which region,
//! and when it arrived and was answered. A test can then see which reads were in
//! flight at the same time (their intervals overlap) without judging any
//! duration: two reads issued one after the other never overlap, however fast.
//! Listens on 127.0.0.1 only; threads end with the test process.

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::faulty::{forward, read_request};

/// One request as the front saw it.
#[derive(Debug, Clone)]
pub struct Call {
    /// The API operation ("DescribeAlarms", "GetHealthCheckStatus", …).
    pub op: String,
    /// The region the request was signed for (SigV4 credential scope).
    pub region: String,
    pub start: Instant,
    pub end: Instant,
}

impl Call {
    /// Both were in flight at some instant.
    pub fn overlaps(&self, other: &Call) -> bool {
        self.start < other.end && other.start < self.end
    }
}

#[derive(Clone)]
pub struct SlowFront {
    pub port: u16,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl SlowFront {
    /// Forward to `upstream` on 127.0.0.1, each request held `hold` first.
    pub fn start(upstream: u16, hold: Duration) -> SlowFront {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let front = SlowFront { port, calls: Arc::new(Mutex::new(Vec::new())) };
        let me = front.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let me = me.clone();
                std::thread::spawn(move || {
                    let Some(request) = read_request(&mut conn) else { return };
                    let start = Instant::now();
                    let (op, region) = operation(&String::from_utf8_lossy(&request));
                    std::thread::sleep(hold);
                    let Some(answer) = forward(&request, upstream) else { return };
                    // Noted before the answer goes out: a request that waits for this
                    // answer can only arrive after `end`, so it never seems to overlap.
                    let end = Instant::now();
                    me.calls.lock().expect("lock").push(Call { op, region, start, end });
                    let _ = conn.write_all(&answer);
                });
            }
        });
        front
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request answered so far, and forget them.
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.calls.lock().expect("lock"))
    }
}

/// The operation and region of a raw request, in whichever protocol the SDK spoke:
/// a JSON target header, a query-protocol form, an RPC v2 path, or Route 53's REST paths.
fn operation(text: &str) -> (String, String) {
    let head_end = text.find("\r\n\r\n").unwrap_or(text.len());
    let (head, body) = text.split_at(head_end);
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    };
    let region = header("authorization")
        .and_then(|a| a.split("Credential=").nth(1).and_then(|c| c.split('/').nth(2)).map(String::from))
        .unwrap_or_default();
    let path = head.lines().next().and_then(|l| l.split(' ').nth(1)).unwrap_or("");
    let op = if let Some(target) = header("x-amz-target") {
        target.rsplit('.').next().unwrap_or("").to_string()
    } else if let Some(action) =
        body.trim().split('&').chain(path.split(['?', '&'])).find_map(|kv| kv.strip_prefix("Action="))
    {
        action.to_string()
    } else if let Some((_, op)) = path.split_once("/operation/") {
        op.split(['/', '?']).next().unwrap_or("").to_string()
    } else if path.contains("/rrset") {
        "ListResourceRecordSets".into()
    } else if path.contains("/healthcheck/") && path.contains("/status") {
        "GetHealthCheckStatus".into()
    } else {
        path.to_string()
    };
    (op, region)
}

#[cfg(test)]
mod tests {
    use super::operation;

    #[test]
    fn operations_in_each_protocol() {
        let auth = "Authorization: AWS4-HMAC-SHA256 Credential=testing/20261201/eu-west-1/monitoring/aws4_request, SignedHeaders=host";
        let cases = [
            (format!("POST / HTTP/1.1\r\n{auth}\r\n\r\nAction=DescribeAlarms&Version=2010-08-01"), "DescribeAlarms"),
            (
                format!(
                    "POST / HTTP/1.1\r\nX-Amz-Target: AWSInsightsIndexService.GetCostAndUsage\r\n{auth}\r\n\r\n{{}}"
                ),
                "GetCostAndUsage",
            ),
            (
                format!(
                    "POST /service/GraniteServiceVersion20100801/operation/GetMetricData HTTP/1.1\r\n{auth}\r\n\r\n"
                ),
                "GetMetricData",
            ),
            (
                format!("GET /2013-04-01/hostedzone/Z1/rrset?name=shop HTTP/1.1\r\n{auth}\r\n\r\n"),
                "ListResourceRecordSets",
            ),
            (format!("GET /2013-04-01/healthcheck/abc/status HTTP/1.1\r\n{auth}\r\n\r\n"), "GetHealthCheckStatus"),
        ];
        for (request, op) in cases {
            assert_eq!(operation(&request), (op.to_string(), "eu-west-1".to_string()), "{request}");
        }
    }
}
