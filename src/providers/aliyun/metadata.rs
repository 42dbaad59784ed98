//! The ECS metadata service: the RAM role attached to the instance and its
//! temporary key (`/latest/meta-data/ram/security-credentials/<role>`).
//!
//! The hardened mode (IMDSv2) is tried first: a session token from
//! `PUT /latest/api/token` sent as `X-aliyun-ecs-metadata-token`. A service that
//! refuses the PUT with an HTTP status (older images, stand-ins) is read without it;
//! one that cannot be reached at all is reported as that.

use serde_json::Value;

use super::sign::percent_encode;
use super::temporary::{self, Temporary};
use crate::credentials::Secret;
use crate::format::one_line;
use crate::providers::http::{read_body, transport_error};
use crate::providers::{ProviderError, words};

const TOKEN_HEADER: &str = "X-aliyun-ecs-metadata-token";
const TOKEN_TTL_HEADER: &str = "X-aliyun-ecs-metadata-token-ttl-seconds";
const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";

/// The temporary key of `role` (the attached role when None), and the role's name.
pub async fn role_key(
    http: &reqwest::Client,
    base: &str,
    role: Option<&str>,
) -> Result<(String, Temporary), ProviderError> {
    let what = format!("ECS metadata service {base}");
    let token = session_token(http, base, &what).await?;
    let role = match role {
        Some(r) => r.to_string(),
        None => {
            let (status, body) = get(http, &format!("{base}{CREDENTIALS_PATH}"), token.as_ref(), &what).await?;
            if status == 404 {
                return Err(ProviderError::Auth(format!("{what}: no RAM role is attached to this instance")));
            }
            check(&what, status, &body)?;
            let text = String::from_utf8_lossy(&body);
            // Remote text: one clean line, whatever the service sent.
            let first = text.lines().map(str::trim).find(|l| !l.is_empty()).map(|l| one_line(l, 128));
            first.ok_or_else(|| ProviderError::Auth(format!("{what}: no RAM role is attached to this instance")))?
        }
    };
    let url = format!("{base}{CREDENTIALS_PATH}{}", percent_encode(&role));
    let (status, body) = get(http, &url, token.as_ref(), &what).await?;
    if status == 404 {
        return Err(ProviderError::Auth(format!("{what}: RAM role {role} is not attached to this instance")));
    }
    check(&what, status, &body)?;
    let v: Value = serde_json::from_slice(&body)
        .map_err(|_| ProviderError::BadResponse(format!("{what}: role {role}: answer is not JSON")))?;
    let code = super::json::text(&v, "Code");
    if code.as_deref() != Some("Success") {
        let code = code.map(|c| one_line(&c, 80)).unwrap_or_else(|| "no Code".into());
        return Err(ProviderError::Auth(format!("{what}: role {role}: {code}")));
    }
    let t = temporary::parse(&format!("{what}: role {role}"), &v).map_err(ProviderError::BadResponse)?;
    Ok((role, t))
}

/// The hardened mode's session token, or None where the service does not offer it.
async fn session_token(http: &reqwest::Client, base: &str, what: &str) -> Result<Option<Secret>, ProviderError> {
    let resp = http
        .put(format!("{base}/latest/api/token"))
        .header(TOKEN_TTL_HEADER, "300")
        .send()
        .await
        .map_err(|e| transport_error(what, &e))?;
    if !resp.status().is_success() {
        return Ok(None);
    }
    let body = read_body(what, resp).await?;
    let token = String::from_utf8_lossy(&body).trim().to_string();
    Ok((!token.is_empty()).then(|| Secret::new(token)))
}

async fn get(
    http: &reqwest::Client,
    url: &str,
    token: Option<&Secret>,
    what: &str,
) -> Result<(u16, Vec<u8>), ProviderError> {
    let mut req = http.get(url);
    if let Some(t) = token {
        req = req.header(TOKEN_HEADER, t.expose());
    }
    let resp = req.send().await.map_err(|e| transport_error(what, &e))?;
    let status = resp.status().as_u16();
    Ok((status, read_body(what, resp).await?))
}

fn check(what: &str, status: u16, body: &[u8]) -> Result<(), ProviderError> {
    if (200..300).contains(&status) {
        return Ok(());
    }
    let words = format!("{what}: {}", words::status_with_body(status, body));
    Err(if matches!(status, 401 | 403) { ProviderError::Auth(words) } else { ProviderError::BadResponse(words) })
}
