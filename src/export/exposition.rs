//! The families as text a scraper reads, written by `prometheus-client`:
//! OpenMetrics 1.0 when the scraper asks for it in `Accept`, else the Prometheus
//! text format 0.0.4 (what `curl`, older scrapers and `promtool check metrics`
//! read). Every family is a gauge with no UNIT, so the two differ only in the
//! content type and OpenMetrics' closing `# EOF`.
//!
//! A fresh Registry per scrape holds one collector that writes the families in
//! their given order: the library's own `Family` metric keeps its series in a hash
//! map, and two exporters must write the same lines in the same order.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use super::families::Family;

/// Which text exposition a scrape gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OpenMetrics,
    /// The Prometheus text format, version 0.0.4.
    Prometheus,
}

const OPENMETRICS: &str = "application/openmetrics-text";

impl Format {
    /// OpenMetrics when `Accept` lists `application/openmetrics-text` with a
    /// non-zero quality (Prometheus sends it first, with text/plain as the
    /// fallback), else the Prometheus text format.
    pub fn from_accept(accept: Option<&str>) -> Format {
        let wants_openmetrics = accept.is_some_and(|a| {
            a.split(',').any(|entry| {
                let mut parts = entry.split(';').map(str::trim);
                let media = parts.next().unwrap_or("");
                let refused = parts
                    .any(|p| p.strip_prefix("q=").and_then(|q| q.trim().parse::<f64>().ok()).is_some_and(|q| q <= 0.0));
                media.eq_ignore_ascii_case(OPENMETRICS) && !refused
            })
        });
        if wants_openmetrics { Format::OpenMetrics } else { Format::Prometheus }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Prometheus => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("writing the exposition failed")]
pub struct RenderError;

/// One scrape's families, written in their order.
#[derive(Debug)]
struct Scrape(Vec<Family>);

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for family in &self.0 {
            let mut metric = encoder.encode_descriptor(family.name, family.help, None, MetricType::Gauge)?;
            for s in &family.series {
                ConstGauge::new(s.value).encode(metric.encode_family(&s.labels)?)?;
            }
        }
        Ok(())
    }
}

/// The families as the body of a scrape in `format`.
pub fn render(families: Vec<Family>, format: Format) -> Result<String, RenderError> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Scrape(families)));
    let mut body = String::new();
    match format {
        Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut body, &registry),
        Format::Prometheus => prometheus_client::encoding::prometheus_text::encode(&mut body, &registry),
    }
    .map_err(|_| RenderError)?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::families::Series;

    fn sample() -> Vec<Family> {
        vec![
            Family {
                name: "opsdeck_group_desired",
                help: "Desired instance count of a scaling group.",
                series: vec![Series {
                    labels: vec![("source", "aws".into()), ("group", "we\"b\\1".into())],
                    value: 3.0,
                }],
            },
            Family { name: "opsdeck_error_ratio", help: "Errors.", series: vec![] },
            Family {
                name: "opsdeck_exporter_info",
                help: "Version.",
                series: vec![Series { labels: vec![("version", "0.1.0".into())], value: 1.0 }],
            },
        ]
    }

    #[test]
    fn the_two_formats_differ_only_by_the_eof_marker() {
        let om = render(sample(), Format::OpenMetrics).expect("openmetrics");
        let classic = render(sample(), Format::Prometheus).expect("classic");
        assert_eq!(
            classic,
            "# HELP opsdeck_group_desired Desired instance count of a scaling group.\n\
             # TYPE opsdeck_group_desired gauge\n\
             opsdeck_group_desired{source=\"aws\",group=\"we\\\"b\\\\1\"} 3.0\n\
             # HELP opsdeck_error_ratio Errors.\n\
             # TYPE opsdeck_error_ratio gauge\n\
             # HELP opsdeck_exporter_info Version.\n\
             # TYPE opsdeck_exporter_info gauge\n\
             opsdeck_exporter_info{version=\"0.1.0\"} 1.0\n"
        );
        assert_eq!(om, format!("{classic}# EOF\n"));
    }

    #[test]
    fn openmetrics_only_when_asked_for() {
        let prometheus_scrape = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::from_accept(Some(prometheus_scrape)), Format::OpenMetrics);
        assert_eq!(Format::from_accept(Some("Application/OpenMetrics-Text")), Format::OpenMetrics);
        assert_eq!(Format::from_accept(Some("text/plain;version=0.0.4")), Format::Prometheus);
        assert_eq!(Format::from_accept(Some("*/*")), Format::Prometheus);
        assert_eq!(Format::from_accept(Some("application/openmetrics-text;q=0, text/plain")), Format::Prometheus);
        assert_eq!(Format::from_accept(None), Format::Prometheus);
        assert_eq!(Format::Prometheus.content_type(), "text/plain; version=0.0.4; charset=utf-8");
        assert!(Format::OpenMetrics.content_type().starts_with("application/openmetrics-text; version=1.0.0"));
    }
}
