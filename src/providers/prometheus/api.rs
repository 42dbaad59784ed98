//! The Prometheus HTTP query API (`/api/v1/query`, `/api/v1/query_range`): the
//! envelope, the three result types opsdeck reads, and values as numbers.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::providers::ProviderError;
use crate::providers::http::{self, HttpSource};

/// One series of an instant query.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// One series of a range query.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub points: Vec<(DateTime<Utc>, f64)>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum Data {
    Vector(Vec<VectorItem>),
    Matrix(Vec<MatrixItem>),
    Scalar(RawPoint),
    String(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
struct VectorItem {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: RawPoint,
}

#[derive(Deserialize)]
struct MatrixItem {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    values: Vec<RawPoint>,
}

/// `[<unix seconds>, "<value>"]`: the value is a string so NaN and ±Inf survive JSON.
#[derive(Deserialize)]
struct RawPoint(f64, String);

fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

fn at(secs: f64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis((secs * 1000.0).round() as i64)
}

/// Decode an answer: the data on success, the API's own error in words otherwise.
fn decode(what: &str, status: reqwest::StatusCode, body: &[u8]) -> Result<Data, ProviderError> {
    let env: Envelope = match http::decode(what, body) {
        Ok(e) => e,
        // A proxy's HTML error page or a truncated body: say the status first.
        Err(_) if !status.is_success() => return Err(http::status_error(what, status, body)),
        Err(e) => return Err(e),
    };
    if env.status != "success" {
        let kind = env.error_type.unwrap_or_else(|| "error".into());
        let msg = env.error.unwrap_or_default();
        let msg: String = msg.chars().filter(|c| !c.is_control()).take(300).collect();
        return Err(match kind.as_str() {
            "timeout" | "canceled" => ProviderError::Unreachable(format!("{what}: Prometheus gave up: {msg}")),
            _ if status.as_u16() == 429 => ProviderError::Throttled(format!("{what}: {msg}")),
            _ if matches!(status.as_u16(), 401 | 403) => ProviderError::Auth(format!("{what}: {msg}")),
            _ => ProviderError::BadResponse(format!("{what}: {kind}: {msg}")),
        });
    }
    env.data.ok_or_else(|| ProviderError::BadResponse(format!("{what}: success without data")))
}

async fn get(
    src: &HttpSource,
    base: &str,
    path: &str,
    what: &str,
    query: &[(&str, String)],
) -> Result<Data, ProviderError> {
    let req = src.authorised(src.client().get(http::join(base, path)).query(query)).await?;
    let resp = req.send().await.map_err(|e| http::transport_error(what, &e))?;
    let status = resp.status();
    let body = http::read_body(what, resp).await?;
    decode(what, status, &body)
}

/// Evaluate `expr` now. A scalar answer comes back as one unlabelled sample.
pub async fn query(
    src: &HttpSource,
    base: &str,
    name: &str,
    expr: &str,
    timeout_secs: f64,
) -> Result<Vec<Sample>, ProviderError> {
    let what = format!("query {name}");
    let params = [("query", expr.to_string()), ("timeout", timeout_secs.to_string())];
    instant(&what, get(src, base, "api/v1/query", &what, &params).await?)
}

/// Evaluate `expr` over `[start, end]` every `step_secs`.
pub async fn query_range(
    src: &HttpSource,
    base: &str,
    name: &str,
    expr: &str,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    step_secs: u64,
    timeout_secs: f64,
) -> Result<Vec<Series>, ProviderError> {
    let what = format!("query_range {name}");
    let params = [
        ("query", expr.to_string()),
        ("start", start.timestamp().to_string()),
        ("end", end.timestamp().to_string()),
        ("step", format!("{}s", step_secs.max(1))),
        ("timeout", timeout_secs.to_string()),
    ];
    range(&what, get(src, base, "api/v1/query_range", &what, &params).await?)
}

/// An instant-query answer (status and body) as samples: what [`query`] does
/// with the HTTP answer, for the fuzz targets (fuzz/) and tests.
pub fn decode_instant(what: &str, status: u16, body: &[u8]) -> Result<Vec<Sample>, ProviderError> {
    let status = reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::BAD_GATEWAY);
    instant(what, decode(what, status, body)?)
}

/// A range-query answer (status and body) as series: what [`query_range`] does.
pub fn decode_range(what: &str, status: u16, body: &[u8]) -> Result<Vec<Series>, ProviderError> {
    let status = reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::BAD_GATEWAY);
    range(what, decode(what, status, body)?)
}

fn instant(what: &str, data: Data) -> Result<Vec<Sample>, ProviderError> {
    match data {
        Data::Vector(items) => items
            .into_iter()
            .map(|i| {
                let value = parse_value(&i.value.1)
                    .ok_or_else(|| ProviderError::BadResponse(format!("{what}: '{}' is not a number", i.value.1)))?;
                Ok(Sample { labels: i.metric, value })
            })
            .collect(),
        Data::Scalar(p) => {
            let value = parse_value(&p.1)
                .ok_or_else(|| ProviderError::BadResponse(format!("{what}: '{}' is not a number", p.1)))?;
            Ok(vec![Sample { labels: BTreeMap::new(), value }])
        }
        Data::Matrix(_) | Data::String(_) => {
            Err(ProviderError::BadResponse(format!("{what}: expected an instant vector; is the query a range?")))
        }
    }
}

fn range(what: &str, data: Data) -> Result<Vec<Series>, ProviderError> {
    match data {
        Data::Matrix(items) => Ok(items
            .into_iter()
            .map(|i| Series {
                labels: i.metric,
                // A history point that is not a finite number is a gap, not a reason to fail.
                points: i
                    .values
                    .iter()
                    .filter_map(|p| Some((at(p.0)?, parse_value(&p.1).filter(|v| v.is_finite())?)))
                    .collect(),
            })
            .collect()),
        _ => Err(ProviderError::BadResponse(format!("{what}: expected a range matrix"))),
    }
}

/// Build information, for `opsdeck doctor`.
pub async fn build_version(src: &HttpSource, base: &str) -> Result<String, ProviderError> {
    #[derive(Deserialize)]
    struct Info {
        data: BuildInfo,
    }
    #[derive(Deserialize)]
    struct BuildInfo {
        version: String,
    }
    let what = "GET /api/v1/status/buildinfo";
    let req = src.authorised(src.client().get(http::join(base, "api/v1/status/buildinfo"))).await?;
    let resp = req.send().await.map_err(|e| http::transport_error(what, &e))?;
    let status = resp.status();
    let body = http::read_body(what, resp).await?;
    if !status.is_success() {
        return Err(http::status_error(what, status, &body));
    }
    Ok(http::decode::<Info>(what, &body)?.data.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str) -> Result<Data, ProviderError> {
        decode("query rps", reqwest::StatusCode::OK, body.as_bytes())
    }

    #[test]
    fn vectors_decode_with_labels_and_string_values() {
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"cloud":"aws","region":"us-east-1"},"value":[1700000000.5,"12.5"]},
            {"metric":{"cloud":"azure"},"value":[1700000000.5,"NaN"]}]}}"#;
        let Ok(Data::Vector(items)) = ok(body) else { panic!("vector") };
        assert_eq!(items[0].metric["region"], "us-east-1");
        assert_eq!(parse_value(&items[0].value.1), Some(12.5));
        assert!(parse_value(&items[1].value.1).is_some_and(f64::is_nan));
        assert_eq!(parse_value("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_value("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_value("twelve"), None);
    }

    #[test]
    fn api_errors_are_reported_in_words() {
        let body = r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unclosed left parenthesis"}"#;
        let err = decode("query rps", reqwest::StatusCode::BAD_REQUEST, body.as_bytes()).err().expect("error");
        assert_eq!(err.to_string(), "bad response: query rps: bad_data: 1:5: parse error: unclosed left parenthesis");
        let body = r#"{"status":"error","errorType":"timeout","error":"query timed out in query execution"}"#;
        let err = decode("query rps", reqwest::StatusCode::SERVICE_UNAVAILABLE, body.as_bytes()).err().expect("err");
        assert!(matches!(&err, ProviderError::Unreachable(m) if m.contains("gave up: query timed out")), "{err}");
    }

    #[test]
    fn a_non_json_error_page_reports_the_status() {
        let err = decode("query rps", reqwest::StatusCode::BAD_GATEWAY, b"<html>502</html>").err().expect("err");
        assert!(err.to_string().contains("HTTP 502"), "{err}");
        let err = ok(r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}}"#)
            .err()
            .expect("a value that is not a string");
        assert!(err.to_string().contains("unreadable answer"), "{err}");
    }
}
