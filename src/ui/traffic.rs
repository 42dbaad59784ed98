//! Traffic: per-cloud request-rate series and the DNS weights that steer it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Sparkline, Table};

use super::widgets::{block, health_glyph, health_style};
use super::{View, format, sanitize};
use crate::model::CloudKind;

pub fn draw(frame: &mut Frame, area: Rect, v: &View) {
    let clouds = v.fleet.clouds();
    let endpoints: usize = v.fleet.policies.iter().map(|p| p.endpoints.len()).sum();
    let weights_h = if endpoints > 0 { endpoints as u16 + 3 } else { 0 };
    // Each SLO, and each cloud's share of a shop-wide one.
    let slo_lines: usize = v.fleet.slos.iter().map(|s| 1 + s.clouds.len()).sum();
    let slos_h = if slo_lines > 0 { slo_lines as u16 + 2 } else { 0 };
    let [series, slos, weights] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(slos_h), Constraint::Length(weights_h)]).areas(area);
    if clouds.is_empty() {
        frame.render_widget(
            Paragraph::new("no traffic data yet").style(v.theme.muted).block(block("Traffic", v.theme)),
            series,
        );
    } else {
        let rows = Layout::vertical(vec![Constraint::Ratio(1, clouds.len() as u32); clouds.len()]).split(series);
        for (cloud, r) in clouds.iter().zip(rows.iter()) {
            draw_series(frame, *r, *cloud, v);
        }
    }
    if slos_h > 0 {
        draw_slos(frame, slos, v);
    }
    if weights_h > 0 {
        draw_weights(frame, weights, v);
    }
}

/// The "SLOs" block: each SLO's own scope, then (for a shop-wide one) each cloud.
fn draw_slos(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let mut lines = Vec::new();
    for s in &v.fleet.slos {
        lines.push(Line::from(super::slo::spans(&super::slo::head(s), &s.overall, t)));
        for f in &s.clouds {
            let mut spans = vec![Span::raw("  ")];
            spans.extend(super::slo::spans(f.cloud.map_or("shop", |c| c.label()), f, t));
            lines.push(Line::from(spans));
        }
    }
    frame.render_widget(Paragraph::new(lines).style(t.base).block(block("SLOs", t)), area);
}

fn draw_series(frame: &mut Frame, area: Rect, cloud: CloudKind, v: &View) {
    let t = v.theme;
    let s = v.fleet.summary(cloud, v.now);
    let title = format!(
        "{} {} · {} req/s · p95 {} ms · 5xx {} · share {}",
        cloud.label(),
        sanitize(&s.region),
        super::overview::figure(s.rps, format::int),
        super::overview::figure(s.p95_ms, format::int),
        super::overview::figure(s.error_rate, format::pct),
        super::overview::figure(s.traffic_share, format::pct)
    );
    let inner_w = usize::from(area.width.saturating_sub(2));
    // A poll whose request rate nobody reported is a gap (None), not a zero.
    let data: Vec<Option<u64>> = v
        .fleet
        .history
        .get(&cloud)
        .map(|h| {
            let skip = h.len().saturating_sub(inner_w);
            h.points().skip(skip).map(|p| p.rps.map(|r| r.max(0.0).round() as u64)).collect()
        })
        .unwrap_or_default();
    let peak = data.iter().flatten().copied().max();
    let b = block(title, t).title_bottom(Line::from(Span::styled(
        format!(
            " peak {} req/s over {} polls ",
            super::overview::figure(peak.map(|p| p as f64), format::int),
            data.len()
        ),
        t.muted,
    )));
    // Scale from zero so a drop to nothing is visible as one; an unknown poll is
    // shaded across the full height so it cannot be read as a drop.
    let spark = Sparkline::default()
        .data(&data)
        .max(peak.unwrap_or(0).max(1))
        .absent_value_symbol(ratatui::symbols::shade::LIGHT)
        .absent_value_style(t.muted)
        .style(health_style(s.health, t))
        .block(b);
    frame.render_widget(spark, area);
}

fn draw_weights(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let mut rows = Vec::new();
    let mut title = String::from("DNS weights");
    let bar_w = usize::from(area.width).saturating_sub(60).clamp(5, 40);
    for p in &v.fleet.policies {
        title = format!("DNS weights: {} ({})", sanitize(&p.name), p.kind.label());
        for (e, share) in p.endpoints.iter().zip(p.shares()) {
            let filled = (share * bar_w as f64).round() as usize;
            rows.push(Row::new(vec![
                Cell::from(Span::styled(health_glyph(e.health), health_style(e.health, t))),
                Cell::from(e.cloud.label()),
                Cell::from(sanitize(&e.target).into_owned()),
                Cell::from(format!("{:>3}", e.weight)),
                Cell::from(format!("{:>6}", format::pct(share))),
                Cell::from(Span::styled(
                    format!("{}{}", "█".repeat(filled), "·".repeat(bar_w - filled.min(bar_w))),
                    t.accent,
                )),
            ]));
        }
    }
    let header = Row::new(["", "Cloud", "Answer", "Wgt", "Share", "Answers served"]).style(t.muted);
    let widths = [
        Constraint::Length(1),
        Constraint::Length(7),
        Constraint::Min(12),
        Constraint::Length(3),
        Constraint::Length(6),
        Constraint::Length(bar_w as u16),
    ];
    frame.render_widget(Table::new(rows, widths).header(header).style(t.base).block(block(title, t)), area);
}
