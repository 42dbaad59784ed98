//! Test servers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different part

pub mod aliyun;
pub mod aliyun_estate;
pub mod aliyun_meta;
pub mod aliyun_prices;
pub mod am_estate;
pub mod aws_estate;
pub mod azure_http;
pub mod delay_proxy;
pub mod dns_stub;
pub mod faulty;
pub mod moto;
pub mod promstack;
pub mod slow_front;
pub mod splitmix;

/// Every file under `dir`, recursively.
pub fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}
