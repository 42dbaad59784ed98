//! An alert's labels, packed: one string with every key and value end to end and
//! one list of where each ends. A map of strings costs a tree node and two
//! allocations per label (about 1 KB for a typical Alertmanager alert); this
//! costs two allocations per alert, which is what keeps 100,000 alerts in tens
//! of MB. Keys are sorted and unique, as in a map.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Labels {
    text: Box<str>,
    /// For label i: where its key ends and where its value ends in `text`.
    ends: Box<[(u32, u32)]>,
}

impl Labels {
    /// From pairs in any order; a key given twice keeps its last value (as a map would).
    pub fn new<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> Labels {
        let mut pairs: Vec<(K, V)> = pairs.into_iter().collect();
        // Stable: of equal keys, the last given stays last, and is the one kept.
        pairs.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
        let mut text = String::with_capacity(pairs.iter().map(|(k, v)| k.as_ref().len() + v.as_ref().len()).sum());
        let mut ends: Vec<(u32, u32)> = Vec::with_capacity(pairs.len());
        for (i, (k, v)) in pairs.iter().enumerate() {
            if pairs.get(i + 1).is_some_and(|next| next.0.as_ref() == k.as_ref()) {
                continue;
            }
            text.push_str(k.as_ref());
            let key_end = text.len();
            text.push_str(v.as_ref());
            // Label sets past 4 GB are not labels; saturate rather than wrap.
            ends.push((u32::try_from(key_end).unwrap_or(u32::MAX), u32::try_from(text.len()).unwrap_or(u32::MAX)));
        }
        Labels { text: text.into_boxed_str(), ends: ends.into_boxed_slice() }
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Every (key, value), in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|&(_, v)| v as usize));
        self.ends.iter().zip(starts).map(|(&(k, v), start)| {
            let (k, v) = (k as usize, v as usize);
            (self.text.get(start..k).unwrap_or_default(), self.text.get(k..v).unwrap_or_default())
        })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for Labels {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Labels::new(iter)
    }
}

impl From<BTreeMap<String, String>> for Labels {
    fn from(m: BTreeMap<String, String>) -> Self {
        Labels::new(m)
    }
}

impl<const N: usize> From<[(String, String); N]> for Labels {
    fn from(pairs: [(String, String); N]) -> Self {
        Labels::new(pairs)
    }
}

impl Serialize for Labels {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Labels, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = Labels;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of label names to string values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Labels, A::Error> {
                let mut pairs: Vec<(String, String)> = Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
                while let Some(pair) = map.next_entry::<String, String>()? {
                    pairs.push(pair);
                }
                Ok(Labels::new(pairs))
            }
        }
        d.deserialize_map(Pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_like_the_map_it_was_built_from() {
        let pairs =
            [("team", "支付"), ("alertname", "HighErrorRate"), ("", "empty key"), ("severity", ""), ("team", "shop")];
        let l: Labels = pairs.iter().copied().collect();
        let mut m = BTreeMap::new();
        for (k, v) in pairs {
            m.insert(k.to_string(), v.to_string());
        }
        assert_eq!(l.to_map(), m);
        assert_eq!(l.len(), 4);
        assert_eq!(l.get("team"), Some("shop"), "the last value of a repeated key wins, as in a map");
        assert_eq!(l.get("severity"), Some(""));
        assert_eq!(l.get(""), Some("empty key"));
        assert_eq!(l.get("missing"), None);
        assert_eq!(Labels::from(m.clone()), l);
        assert_eq!(format!("{l:?}"), format!("{m:?}"));
    }

    #[test]
    fn json_round_trips_as_an_object_and_refuses_other_shapes() {
        let l: Labels = serde_json::from_str(r#"{"b":"2","a":"1","a":"3"}"#).expect("labels");
        assert_eq!(serde_json::to_string(&l).expect("json"), r#"{"a":"3","b":"2"}"#);
        assert!(Labels::default().is_empty());
        assert_eq!(serde_json::to_string(&Labels::default()).expect("json"), "{}");
        let err = serde_json::from_str::<Labels>(r#"{"a":1}"#).expect_err("a number is not a label value");
        assert!(err.to_string().contains("invalid type: integer `1`"), "{err}");
        assert!(serde_json::from_str::<Labels>("[]").is_err());
    }
}
