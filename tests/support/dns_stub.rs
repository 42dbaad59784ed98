//! A tiny authoritative DNS responder on UDP for the RTO tests: it answers a
//! weighted record with the old weights until a known instant, then with the
//! new ones, as a resolver whose cache expires at that instant would. Each
//! answer is a CNAME to one endpoint's target plus an A record for that target;
//! the endpoint is chosen by smooth weighted round robin, so any run of queries
//! shows the weights as closely as its length allows.

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, CNAME};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};

pub struct DnsStub {
    pub port: u16,
    pub queries: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

/// (target, weight) of each endpoint.
pub type Weights = Vec<(String, u32)>;

impl DnsStub {
    /// Answer `record` with `before` until `switch_at`, then with `after`.
    pub fn start(record: &str, before: Weights, after: Weights, switch_at: DateTime<Utc>) -> DnsStub {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        socket.set_read_timeout(Some(Duration::from_millis(200))).expect("timeout");
        let port = socket.local_addr().expect("addr").port();
        let queries = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, stopped) = (queries.clone(), stop.clone());
        let record = Name::from_ascii(format!("{}.", record.trim_end_matches('.'))).expect("name");
        std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            let (mut old, mut new) = (Wrr::new(before), Wrr::new(after));
            while !stopped.load(Ordering::SeqCst) {
                let Ok((n, from)) = socket.recv_from(&mut buf) else { continue };
                let Ok(query) = Message::from_vec(&buf[..n]) else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
                reply.metadata.message_type = MessageType::Response;
                reply.metadata.authoritative = true;
                reply.metadata.recursion_desired = query.metadata.recursion_desired;
                reply.metadata.recursion_available = true;
                reply.queries = query.queries.clone();
                let asked = query.queries.first().map(|q| (q.name().clone(), q.query_type()));
                match asked {
                    Some((name, RecordType::A)) if name.to_string().eq_ignore_ascii_case(&record.to_string()) => {
                        let wrr = if Utc::now() >= switch_at { &mut new } else { &mut old };
                        let (target, ip) = wrr.next();
                        let target = Name::from_ascii(format!("{target}.")).expect("target");
                        reply.answers.push(Record::from_rdata(name, 1, RData::CNAME(CNAME(target.clone()))));
                        reply.answers.push(Record::from_rdata(target, 1, RData::A(A(ip))));
                    }
                    _ => reply.metadata.response_code = ResponseCode::NXDomain,
                }
                if let Ok(bytes) = reply.to_vec() {
                    let _ = socket.send_to(&bytes, from);
                }
            }
        });
        DnsStub { port, queries, stop }
    }
}

impl Drop for DnsStub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Smooth weighted round robin (as nginx does it).
struct Wrr {
    items: Vec<(String, i64, i64)>,
}

impl Wrr {
    fn new(weights: Weights) -> Wrr {
        Wrr { items: weights.into_iter().filter(|(_, w)| *w > 0).map(|(t, w)| (t, i64::from(w), 0)).collect() }
    }

    /// The next endpoint's target and a documentation address for it.
    fn next(&mut self) -> (String, std::net::Ipv4Addr) {
        let total: i64 = self.items.iter().map(|i| i.1).sum();
        for i in &mut self.items {
            i.2 += i.1;
        }
        let best = (0..self.items.len()).max_by_key(|i| (self.items[*i].2, std::cmp::Reverse(*i))).unwrap_or(0);
        self.items[best].2 -= total;
        (self.items[best].0.clone(), std::net::Ipv4Addr::new(192, 0, 2, best as u8 + 1))
    }
}
