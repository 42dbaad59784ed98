//! Alibaba Cloud request signing, done here because there is no maintained Rust SDK.
//!
//! - V3 (`ACS3-HMAC-SHA256`), what the official SDKs use: RPC parameters travel in
//!   the query of `POST /`, the action and version in `x-acs-*` headers, and the
//!   signature in `Authorization`.
//! - V1 (RPC `HMAC-SHA1`), the older scheme, kept for endpoints or proxies that
//!   still want it: every parameter, the signature included, in the query.
//!
//! Both are pinned by the published vectors in `tests/fixtures/aliyun/signature-vectors.json`.

use std::collections::BTreeMap;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::credentials::Secret;

pub const ACS3: &str = "ACS3-HMAC-SHA256";

/// Which signature scheme a source signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureVersion {
    #[default]
    V3,
    V1,
}

/// An AccessKey pair, with the STS token when the key is temporary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub id: String,
    pub secret: Secret,
    pub security_token: Option<Secret>,
}

/// RFC 3986 unreserved characters stay; everything else is `%XY` (so a space is
/// `%20`, `*` is `%2A`, `~` is kept), as both schemes require.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// `k=v&...` with both sides encoded, sorted by key (then value: repeated keys
/// must sort the same way on both ends).
pub fn canonical_query(params: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = params.iter().map(|(k, v)| (percent_encode(k), percent_encode(v))).collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// Timestamp in the form both schemes want: `2023-10-26T10:22:32Z`.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A fresh nonce: 32 hex digits from a random UUID.
pub fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac_sha256_hex(key: &[u8], msg: &str) -> String {
    // HMAC takes keys of any length; the error branch cannot happen.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(msg.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn hmac_sha1_base64(key: &[u8], msg: &str) -> String {
    let mut mac = match Hmac::<sha1::Sha1>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(msg.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The V3 pieces of one request, kept for tests and debugging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V3Signed {
    pub canonical_request: String,
    pub signed_headers: String,
    pub string_to_sign: String,
    pub signature: String,
    pub authorization: String,
}

/// Sign a V3 request. `headers` are the headers to sign (lowercase names: `host`,
/// `content-type` if any, every `x-acs-*`); values are trimmed.
pub fn sign_v3(
    key_id: &str,
    secret: &Secret,
    method: &str,
    canonical_uri: &str,
    query: &[(String, String)],
    headers: &BTreeMap<String, String>,
    hashed_payload: &str,
) -> V3Signed {
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{}\n", v.trim())).collect();
    let signed_headers = headers.keys().cloned().collect::<Vec<_>>().join(";");
    let canonical_request = format!(
        "{method}\n{canonical_uri}\n{}\n{canonical_headers}\n{signed_headers}\n{hashed_payload}",
        canonical_query(query)
    );
    let string_to_sign = format!("{ACS3}\n{}", sha256_hex(canonical_request.as_bytes()));
    let signature = hmac_sha256_hex(secret.expose().as_bytes(), &string_to_sign);
    let authorization = format!("{ACS3} Credential={key_id},SignedHeaders={signed_headers},Signature={signature}");
    V3Signed { canonical_request, signed_headers, string_to_sign, signature, authorization }
}

/// The headers of a V3 RPC call (`POST /`, parameters in the query, empty body),
/// Authorization included, ready to send.
pub fn v3_rpc_headers(
    key: &AccessKey,
    host: &str,
    action: &str,
    version: &str,
    query: &[(String, String)],
    date: DateTime<Utc>,
    nonce: &str,
) -> Vec<(String, String)> {
    let empty = sha256_hex(b"");
    let mut h = BTreeMap::new();
    h.insert("host".to_string(), host.to_string());
    h.insert("x-acs-action".to_string(), action.to_string());
    h.insert("x-acs-content-sha256".to_string(), empty.clone());
    h.insert("x-acs-date".to_string(), timestamp(date));
    h.insert("x-acs-signature-nonce".to_string(), nonce.to_string());
    h.insert("x-acs-version".to_string(), version.to_string());
    if let Some(t) = &key.security_token {
        h.insert("x-acs-security-token".to_string(), t.expose().to_string());
    }
    let signed = sign_v3(&key.id, &key.secret, "POST", "/", query, &h, &empty);
    // Host is set by the HTTP client from the URL; sending it twice would be wrong.
    h.remove("host");
    let mut out: Vec<(String, String)> = h.into_iter().collect();
    out.push(("authorization".to_string(), signed.authorization));
    out
}

/// V1: the string to sign and the signature (base64) for the given parameters,
/// which must already hold every common parameter except `Signature`.
pub fn sign_v1(secret: &Secret, method: &str, params: &[(String, String)]) -> (String, String) {
    let string_to_sign = format!("{method}&{}&{}", percent_encode("/"), percent_encode(&canonical_query(params)));
    let key = format!("{}&", secret.expose());
    let signature = hmac_sha1_base64(key.as_bytes(), &string_to_sign);
    (string_to_sign, signature)
}

/// The full V1 query of an RPC call: the action's parameters, the common ones, and
/// the signature.
pub fn v1_rpc_query(
    key: &AccessKey,
    method: &str,
    action: &str,
    version: &str,
    params: &[(String, String)],
    date: DateTime<Utc>,
    nonce: &str,
) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = params.to_vec();
    let common = [
        ("AccessKeyId", key.id.clone()),
        ("Action", action.to_string()),
        ("Format", "JSON".to_string()),
        ("SignatureMethod", "HMAC-SHA1".to_string()),
        ("SignatureNonce", nonce.to_string()),
        ("SignatureVersion", "1.0".to_string()),
        ("Timestamp", timestamp(date)),
        ("Version", version.to_string()),
    ];
    all.extend(common.into_iter().map(|(k, v)| (k.to_string(), v)));
    if let Some(t) = &key.security_token {
        all.push(("SecurityToken".to_string(), t.expose().to_string()));
    }
    let (_, signature) = sign_v1(&key.secret, method, &all);
    all.push(("Signature".to_string(), signature));
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Value {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/aliyun/signature-vectors.json");
        serde_json::from_str(&std::fs::read_to_string(p).expect("vectors file")).expect("vectors json")
    }

    fn pairs(v: &Value) -> Vec<(String, String)> {
        v.as_object()
            .expect("object")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("string").to_string()))
            .collect()
    }

    fn s<'a>(v: &'a Value, k: &str) -> &'a str {
        v[k].as_str().unwrap_or_else(|| panic!("{k} missing"))
    }

    #[test]
    fn every_v1_vector() {
        let all = vectors();
        let list = all["rpc_v1_hmac_sha1"].as_array().expect("v1 list");
        assert_eq!(list.len(), 4);
        for v in list {
            let id = s(v, "id");
            let params = pairs(&v["params"]);
            assert_eq!(canonical_query(&params), s(v, "canonicalized_query_string"), "{id}");
            assert_eq!(format!("{}&", s(v, "access_key_secret")), s(v, "hmac_key"), "{id}");
            let (sts, sig) = sign_v1(&Secret::new(s(v, "access_key_secret")), s(v, "method"), &params);
            assert_eq!(sts, s(v, "string_to_sign"), "{id}");
            assert_eq!(sig, s(v, "signature"), "{id}");
            assert_eq!(percent_encode(&sig), s(v, "signature_percent_encoded"), "{id}");
        }
    }

    #[test]
    fn every_v3_vector() {
        let all = vectors();
        let list = all["acs3_hmac_sha256"].as_array().expect("v3 list");
        assert!(!list.is_empty());
        for v in list {
            let id = s(v, "id");
            assert_eq!(s(v, "algorithm"), ACS3);
            let headers: BTreeMap<String, String> = pairs(&v["headers"]).into_iter().collect();
            let query = pairs(&v["query"]);
            let hashed = sha256_hex(s(v, "body").as_bytes());
            assert_eq!(hashed, s(v, "hashed_request_payload"), "{id}");
            assert_eq!(canonical_query(&query), s(v, "canonical_query_string"), "{id}");
            let signed = sign_v3(
                s(v, "access_key_id"),
                &Secret::new(s(v, "access_key_secret")),
                s(v, "method"),
                s(v, "canonical_uri"),
                &query,
                &headers,
                &hashed,
            );
            assert_eq!(signed.signed_headers, s(v, "signed_headers"), "{id}");
            assert_eq!(signed.canonical_request, s(v, "canonical_request"), "{id}");
            assert_eq!(sha256_hex(signed.canonical_request.as_bytes()), s(v, "hashed_canonical_request"), "{id}");
            assert_eq!(signed.string_to_sign, s(v, "string_to_sign"), "{id}");
            assert_eq!(signed.signature, s(v, "signature"), "{id}");
            assert_eq!(signed.authorization, s(v, "authorization"), "{id}");
        }
    }

    #[test]
    fn v3_rpc_headers_reproduce_the_vector_through_the_request_builder() {
        let all = vectors();
        let v = &all["acs3_hmac_sha256"][0];
        let key = AccessKey {
            id: s(v, "access_key_id").into(),
            secret: Secret::new(s(v, "access_key_secret")),
            security_token: None,
        };
        let date = DateTime::parse_from_rfc3339(s(&v["headers"], "x-acs-date")).expect("date").with_timezone(&Utc);
        let h = v3_rpc_headers(
            &key,
            s(&v["headers"], "host"),
            s(&v["headers"], "x-acs-action"),
            s(&v["headers"], "x-acs-version"),
            &pairs(&v["query"]),
            date,
            s(&v["headers"], "x-acs-signature-nonce"),
        );
        let auth = h.iter().find(|(k, _)| k == "authorization").map(|(_, v)| v.as_str());
        assert_eq!(auth, Some(s(v, "authorization")));
        assert!(!h.iter().any(|(k, _)| k == "host"), "host comes from the URL");
    }

    #[test]
    fn a_security_token_is_signed() {
        let key = AccessKey { id: "id".into(), secret: Secret::new("s"), security_token: Some(Secret::new("tok")) };
        let at = DateTime::from_timestamp(1_700_000_000, 0).expect("time");
        let h = v3_rpc_headers(&key, "h", "A", "V", &[], at, "n");
        assert!(h.iter().any(|(k, v)| k == "x-acs-security-token" && v == "tok"));
        let auth = &h.iter().find(|(k, _)| k == "authorization").expect("auth").1;
        assert!(auth.contains("x-acs-security-token;x-acs-signature-nonce"), "{auth}");
        let q = v1_rpc_query(&key, "POST", "A", "V", &[], at, "n");
        assert!(q.iter().any(|(k, v)| k == "SecurityToken" && v == "tok"));
        assert_eq!(q.last().map(|(k, _)| k.as_str()), Some("Signature"));
    }

    #[test]
    fn encoding_follows_rfc3986() {
        assert_eq!(percent_encode("a b*c~d/é"), "a%20b%2Ac~d%2F%C3%A9");
        assert_eq!(nonce().len(), 32);
    }
}
