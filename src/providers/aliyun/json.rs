//! Tolerant reading of Alibaba Cloud JSON. The same field arrives as a number in
//! one API and a string in another (`Code: 200` / `"200"`, `AlertTime`), booleans
//! as `true` or `"true"`, lists flat or wrapped (`ScalingGroups.ScalingGroup[]`),
//! and CloudMonitor's `Datapoints` as JSON inside a string.

use serde_json::Value;

/// A field as text, whether it was sent as a string, a number or a boolean.
pub fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A field as a number, whether sent as a number or a numeric string.
pub fn num(v: &Value, key: &str) -> Option<f64> {
    match v.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A count: a non-negative whole number, clamped into u32.
pub fn count(v: &Value, key: &str) -> Option<u32> {
    num(v, key).map(|n| n.max(0.0).min(f64::from(u32::MAX)) as u32)
}

/// A boolean sent as `true` or as `"true"` / `"false"` (any case).
pub fn flag(v: &Value, key: &str) -> Option<bool> {
    match v.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A list that is either `key: [...]` (newer APIs) or `key: { inner: [...] }`
/// (the XML-derived wrapped shape of older ones). Absent or empty → empty.
pub fn list<'a>(v: &'a Value, key: &str, inner: &str) -> &'a [Value] {
    match v.get(key) {
        Some(Value::Array(a)) => a,
        Some(Value::Object(o)) => match o.get(inner) {
            Some(Value::Array(a)) => a,
            _ => &[],
        },
        _ => &[],
    }
}

/// [`list`] for data that must not vanish silently: absent, null or an empty
/// wrapper is an empty list, but any other shape is an error, not "none".
pub fn strict_list<'a>(v: &'a Value, key: &str, inner: &str) -> Result<&'a [Value], String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(Value::Object(o)) => match o.get(inner) {
            Some(Value::Array(a)) => Ok(a),
            None | Some(Value::Null) if o.len() <= 1 => Ok(&[]),
            _ => Err(format!("{key}.{inner} is not a list")),
        },
        Some(other) => Err(format!("{key} is {}, not a list", kind(other))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A list that may arrive as an array or as a string holding the array's JSON.
pub fn embedded_list(v: &Value, key: &str) -> Result<Vec<Value>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(a)) => Ok(a.clone()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(vec![]),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Array(a)) => Ok(a),
            Ok(_) => Err(format!("{key} is not a list")),
            Err(e) => Err(format!("{key} is not valid JSON: {e}")),
        },
        Some(_) => Err(format!("{key} is neither a list nor a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrongly_typed_list_is_an_error_not_an_empty_one() {
        let v: Value = serde_json::json!({"A": "none", "B": {"Item": 3}, "C": {}, "D": null, "E": {"Item": [1]}});
        assert_eq!(strict_list(&v, "A", "Item").expect_err("string"), "A is a string, not a list");
        assert_eq!(strict_list(&v, "B", "Item").expect_err("number"), "B.Item is not a list");
        assert!(strict_list(&v, "C", "Item").expect("empty wrapper").is_empty());
        assert!(strict_list(&v, "D", "Item").expect("null").is_empty());
        assert!(strict_list(&v, "Z", "Item").expect("absent").is_empty());
        assert_eq!(strict_list(&v, "E", "Item").expect("wrapped").len(), 1);
    }
    use serde_json::json;

    #[test]
    fn numbers_strings_and_flags_either_way() {
        let v = json!({"a": 200, "b": "200", "c": true, "d": "False", "e": "x"});
        assert_eq!(text(&v, "a").as_deref(), Some("200"));
        assert_eq!(text(&v, "b").as_deref(), Some("200"));
        assert_eq!(num(&v, "b"), Some(200.0));
        assert_eq!(num(&v, "e"), None);
        assert_eq!(flag(&v, "c"), Some(true));
        assert_eq!(flag(&v, "d"), Some(false));
        assert_eq!(count(&json!({"n": -3}), "n"), Some(0));
    }

    #[test]
    fn lists_flat_wrapped_or_embedded() {
        let flat = json!({"L": [1, 2]});
        let wrapped = json!({"L": {"I": [1, 2, 3]}});
        assert_eq!(list(&flat, "L", "I").len(), 2);
        assert_eq!(list(&wrapped, "L", "I").len(), 3);
        assert!(list(&json!({}), "L", "I").is_empty());
        assert_eq!(embedded_list(&json!({"D": "[{\"x\":1}]"}), "D").expect("string").len(), 1);
        assert_eq!(embedded_list(&json!({"D": [{"x": 1}]}), "D").expect("array").len(), 1);
        assert!(embedded_list(&json!({"D": "[{"}), "D").is_err());
    }
}
