//! A temporary key (an ECS RAM role's, or one STS AssumeRole issued) and when it
//! stops working. Both services answer with the same four fields.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::json;
use super::sign::AccessKey;
use crate::credentials::Secret;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Temporary {
    pub key: AccessKey,
    pub expires: DateTime<Utc>,
}

/// `{AccessKeyId, AccessKeySecret, SecurityToken, Expiration}` as a key. Every
/// field is required: a key without its token or its expiry cannot be used safely.
/// `what` names the answer in errors; no value is ever quoted.
pub fn parse(what: &str, v: &Value) -> Result<Temporary, String> {
    let field = |k: &str| json::text(v, k).filter(|s| !s.trim().is_empty());
    let (Some(id), Some(secret), Some(token)) =
        (field("AccessKeyId"), field("AccessKeySecret"), field("SecurityToken"))
    else {
        return Err(format!("{what}: answer lacks AccessKeyId, AccessKeySecret or SecurityToken"));
    };
    // Held as secrets at once, so the scrubber knows them before anything can echo them.
    let (secret, token) = (Secret::new(secret), Secret::new(token));
    let expiration = field("Expiration").ok_or_else(|| format!("{what}: answer has no Expiration"))?;
    let expires = DateTime::parse_from_rfc3339(expiration.trim())
        .map_err(|_| format!("{what}: Expiration is not a time (RFC 3339)"))?
        .with_timezone(&Utc);
    Ok(Temporary { key: AccessKey { id, secret, security_token: Some(token) }, expires })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_four_fields_are_needed() {
        let v: Value = serde_json::from_str(
            r#"{"AccessKeyId":"STS.a","AccessKeySecret":"s","SecurityToken":"t","Expiration":"2026-12-01T13:00:00Z"}"#,
        )
        .expect("json");
        let t = parse("m", &v).expect("parsed");
        assert_eq!((t.key.id.as_str(), t.key.secret.expose()), ("STS.a", "s"));
        assert_eq!(t.key.security_token, Some(Secret::new("t")));
        assert_eq!(t.expires.to_rfc3339(), "2026-12-01T13:00:00+00:00");
        for drop in ["AccessKeyId", "SecurityToken", "Expiration"] {
            let mut w = v.clone();
            w.as_object_mut().expect("object").remove(drop);
            assert!(parse("m", &w).is_err(), "{drop}");
        }
        let mut w = v.clone();
        w["Expiration"] = Value::String("soon".into());
        assert_eq!(parse("m", &w), Err("m: Expiration is not a time (RFC 3339)".into()));
    }
}
