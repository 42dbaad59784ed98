//! Overview: one tile per cloud (listing its regions when it has several), then the estate-wide facts an on-call engineer
//! checks first (arbiter, traffic split, replication, cheapest scale-out, worst alerts).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::widgets::{block, fit, health_glyph, health_style, target_style};
use super::{View, format, sanitize};
use crate::model::{CloudSummary, CurrencyTotal, Forecast, Link, RegionSummary, ReplicationKind, Severity};

/// A tile's lines for a one-region cloud, plus borders.
const TILE_HEIGHT: u16 = 11;

/// A figure, or "–" when no source reports it (never a made-up 0).
pub fn figure(v: Option<f64>, show: fn(f64) -> String) -> String {
    v.map_or_else(|| "–".to_string(), show)
}

/// Month to date and forecast of every currency a cloud is billed in, each in its
/// own currency ("$1,234 + €560"): amounts in different currencies are never added.
/// A forecast opsdeck extrapolated from the run rate reads "≈$3,400" (the cloud's
/// own has no mark); one nobody can make yet reads "too early"; no cost data "–".
pub fn cost_text(costs: &[CurrencyTotal]) -> (String, String) {
    if costs.is_empty() {
        return ("–".into(), "–".into());
    }
    let mtd: Vec<String> = costs.iter().map(|c| format::money(c.month_to_date, &c.currency)).collect();
    let forecast: Vec<String> = costs
        .iter()
        .map(|c| match c.forecast {
            Forecast::Cloud(f) => format::money(f, &c.currency),
            Forecast::RunRate(f) => format!("≈{}", format::money(f, &c.currency)),
            Forecast::TooEarly if costs.len() == 1 => "too early".into(),
            Forecast::TooEarly => format!("{} too early", c.currency),
        })
        .collect();
    (mtd.join(" + "), forecast.join(" + "))
}

/// One region on one line: health, name and its figures.
fn region_line(r: &RegionSummary, label_demo: bool, width: usize, v: &View) -> Line<'static> {
    let t = v.theme;
    let demo = if label_demo && r.demo { "DEMO " } else { "" };
    let idle = if r.idle_groups > 0 && r.idle_groups == r.groups { " idle" } else { "" };
    let text = format!(
        "{demo}{}{idle} {}/s {} ms {}",
        sanitize(&r.region),
        figure(r.rps, format::int),
        figure(r.p95_ms, format::int),
        figure(r.error_rate, format::pct)
    );
    Line::from(vec![
        Span::styled(format!("{} ", health_glyph(r.health)), health_style(r.health, t)),
        Span::styled(fit(&text, width.saturating_sub(2)), t.base),
    ])
}

pub fn draw(frame: &mut Frame, area: Rect, v: &View) {
    let clouds = v.fleet.clouds();
    if clouds.is_empty() {
        frame.render_widget(
            Paragraph::new("Waiting for the first poll of each source…")
                .style(v.theme.muted)
                .block(block("Overview", v.theme)),
            area,
        );
        return;
    }
    let summaries: Vec<CloudSummary> = clouds.iter().map(|&c| v.fleet.summary(c, v.now)).collect();
    // A cloud with several regions lists each under its figures: the tiles grow by
    // the longest list, so no region is ever left out.
    let extra = summaries.iter().map(|s| if s.regions.len() > 1 { s.regions.len() } else { 0 }).max().unwrap_or(0);
    let tile_height = TILE_HEIGHT + extra as u16;
    // Tiles side by side when each gets 24 columns, else stacked two to a row.
    let per_row = if area.width / clouds.len() as u16 >= 24 { clouds.len() } else { 2.min(clouds.len()) };
    let rows = clouds.len().div_ceil(per_row);
    let tiles_height = (tile_height * rows as u16).min(area.height.saturating_sub(3).max(tile_height.min(area.height)));
    let [tiles_area, estate_area] =
        Layout::vertical([Constraint::Length(tiles_height), Constraint::Min(0)]).areas(area);
    let row_areas = Layout::vertical(vec![Constraint::Length(tile_height); rows]).split(tiles_area);
    for (r, row_area) in row_areas.iter().enumerate() {
        let chunk = summaries.iter().skip(r * per_row).take(per_row);
        let cols = Layout::horizontal(vec![Constraint::Ratio(1, per_row as u32); per_row]).split(*row_area);
        for (summary, col) in chunk.zip(cols.iter()) {
            draw_tile(frame, *col, summary, v);
        }
    }
    if estate_area.height > 2 {
        draw_estate(frame, estate_area, v);
    }
}

fn draw_tile(frame: &mut Frame, area: Rect, s: &CloudSummary, v: &View) {
    let t = v.theme;
    // With the demo beside real sources the header cannot say DEMO: the tile does.
    let label_demo = v.fleet.mixes_demo();
    let place = match s.regions.len() {
        0 => String::new(),
        1 => format!(" {}", sanitize(&s.region)),
        n => format!(" · {n} regions"),
    };
    // The label leads the title, so a narrow tile cuts the region name, not the label.
    let demo = match (label_demo, s.demo, s.partly_demo) {
        (true, true, _) => "DEMO ",
        (true, false, true) => "part DEMO ",
        _ => "",
    };
    let title = format!("{demo}{}{place}", s.cloud.label());
    let label = |l: &str| Span::styled(format!("{l:<9}"), t.muted);
    let age = s.age_secs.map_or("–".to_string(), format::age);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{} {:<9}", health_glyph(s.health), s.health.label()), health_style(s.health, t)),
            Span::styled(format!(" age {age}"), if s.stale { t.crit } else { t.muted }),
        ]),
        Line::from(vec![label("Share"), Span::styled(figure(s.traffic_share, format::pct), t.base)]),
        Line::from(vec![label("Req/s"), Span::styled(figure(s.rps, format::int), t.base)]),
        Line::from(vec![
            label("p95"),
            Span::styled(
                figure(s.p95_ms, |p| format!("{} ms", format::int(p))),
                if s.p95_ms.is_some_and(|p| p > 500.0) { t.warn } else { t.base },
            ),
        ]),
        Line::from(vec![
            label("5xx"),
            Span::styled(
                figure(s.error_rate, format::pct),
                match s.error_rate {
                    Some(e) if e >= 0.05 => t.crit,
                    Some(e) if e >= 0.01 => t.warn,
                    _ => t.base,
                },
            ),
        ]),
    ];
    if s.regions.len() > 1 {
        let width = usize::from(area.width.saturating_sub(2));
        lines.extend(s.regions.iter().map(|r| region_line(r, label_demo, width, v)));
    }
    lines.push(match (s.db_lag, s.db_primary) {
        (Some((lag, rpo)), _) => Line::from(vec![
            label("DB lag"),
            Span::styled(format!("{} / {}", format::secs(lag), format::secs(rpo)), target_style(lag / rpo, t)),
        ]),
        (None, true) => Line::from(vec![label("DB"), Span::styled("primary", t.base)]),
        (None, false) => Line::from(vec![label("DB"), Span::styled("–", t.muted)]),
    });
    let (mtd, forecast) = cost_text(&s.costs);
    lines.push(Line::from(vec![label("MTD cost"), Span::styled(mtd, t.base)]));
    lines.push(Line::from(vec![label("Forecast"), Span::styled(forecast, t.base)]));
    let mut alerts = vec![];
    for sev in Severity::ALL {
        let n = v.app.alert_counts.cloud(s.cloud)[sev.index()];
        alerts
            .push(Span::styled(format!("{} {n} ", sev.label()), if n > 0 { t.severity[sev.index()] } else { t.muted }));
    }
    lines.push(Line::from(alerts));
    let border = match s.health {
        crate::model::Health::Ok | crate::model::Health::Idle => t.border,
        h => health_style(h, t),
    };
    frame.render_widget(Paragraph::new(lines).style(t.base).block(block(title, t).border_style(border)), area);
}

/// One cross-cloud link: its round trip against its target (crit over it), the
/// share of probes lost, how it was measured; "unknown" and why when nothing
/// measured it.
fn link_line(l: &Link, width: usize, v: &View) -> Line<'static> {
    let t = v.theme;
    let ms = |x: f64| if x < 10.0 { format!("{x:.1}") } else { format::int(x) };
    let head = format!("{} {}↔{}  ", sanitize(&l.name), l.a.label(), l.b.label());
    let mut spans = vec![Span::styled(format!("{:<12}", "Link"), t.muted), Span::styled(head, t.base)];
    spans.push(match l.rtt_ms {
        Some(rtt) => {
            Span::styled(format!("rtt {} / {} ms", ms(rtt), ms(l.target_ms)), target_style(rtt / l.target_ms, t))
        }
        None => Span::styled(format!("rtt unknown / {} ms", ms(l.target_ms)), t.warn),
    });
    if let Some(loss) = l.loss {
        let style = if loss >= 1.0 {
            t.crit
        } else if loss > 0.0 {
            t.warn
        } else {
            t.base
        };
        spans.push(Span::styled(format!("  loss {}", format::pct(loss)), style));
    }
    if l.up == Some(false) {
        spans.push(Span::styled("  DOWN", t.crit));
    }
    // How it was measured, in short: "tcp", "http", "PromQL".
    let mut how: Vec<&str> = l
        .via
        .iter()
        .filter_map(|w| w.split_whitespace().next())
        .map(|w| if w.starts_with("http") { "http" } else { w })
        .collect();
    how.dedup();
    if !how.is_empty() {
        spans.push(Span::styled(format!("  via {}", sanitize(&how.join("+"))), t.muted));
    }
    if let (None, Some(e)) = (l.rtt_ms, &l.error) {
        let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        spans.push(Span::styled(format!("  {}", fit(&sanitize(e), width.saturating_sub(used + 2))), t.muted));
    }
    Line::from(spans)
}

fn draw_estate(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let f = v.fleet;
    let width = usize::from(area.width.saturating_sub(2));
    let label = |l: &str| Span::styled(format!("{l:<12}"), t.muted);
    let mut lines = Vec::new();
    for a in &f.arbiters {
        let rtt = match (a.rtt_ms, &a.error) {
            (Some(ms), _) => format!("rtt {} ms", format::int(ms)),
            (None, Some(e)) => sanitize(e).into_owned(),
            (None, None) => "rtt –".into(),
        };
        let place = if a.location.is_empty() { String::new() } else { format!(" ({})", sanitize(&a.location)) };
        lines.push(Line::from(vec![
            label("Arbiter"),
            Span::styled(
                if a.reachable { "● reachable".to_string() } else { "✖ UNREACHABLE".to_string() },
                if a.reachable { t.ok } else { t.crit },
            ),
            Span::styled(format!("  {}{place} {rtt}", sanitize(&a.name)), t.base),
        ]));
    }
    for p in &f.policies {
        let mut spans = vec![label("DNS")];
        spans.push(Span::styled(format!("{} ", sanitize(&p.name)), t.base));
        for (e, share) in p.endpoints.iter().zip(p.shares()) {
            spans.push(Span::styled(format!("{} {} ", e.cloud.label(), format::pct(share)), health_style(e.health, t)));
        }
        lines.push(Line::from(spans));
    }
    // A stale source is the first thing to know: the figures above may be old.
    for s in &f.sources {
        if let crate::model::Freshness::Stale { reason } = &s.freshness {
            let since = s.last_ok.map_or("never good".to_string(), |t| {
                format!("last good {} ago", format::age((v.now - t).num_seconds()))
            });
            let text = format!("{} {since}: {}", sanitize(s.id.as_str()), sanitize(reason));
            lines.push(Line::from(vec![label("STALE"), Span::styled(fit(&text, width.saturating_sub(12)), t.crit)]));
        } else if !s.partial.is_empty() {
            let text = format!("{}: {}", sanitize(s.id.as_str()), super::logs::partial_reason(s));
            lines.push(Line::from(vec![label("PARTIAL"), Span::styled(fit(&text, width.saturating_sub(12)), t.warn)]));
        }
    }
    if !f.drills.is_empty() {
        let drills: Vec<String> = f.drills.iter().map(|d| sanitize(d).into_owned()).collect();
        lines.push(Line::from(vec![
            label("Drills"),
            Span::styled(fit(&drills.join(", "), width.saturating_sub(12)), t.crit),
        ]));
    }
    // Each SLO on one line: the budget is what the on-call engineer is judged by.
    for s in &f.slos {
        let mut spans = vec![label("SLO")];
        spans.extend(super::slo::spans(&super::slo::head(s), &s.overall, t));
        lines.push(Line::from(spans));
    }
    // The worst alerts go right after the database line: at 80×24 they must not be
    // the lines that fall off the bottom.
    let mut urgent_at = lines.len();
    for kind in [ReplicationKind::Database, ReplicationKind::Cache, ReplicationKind::Storage] {
        let worst = f.replication.iter().filter(|r| r.kind == kind).max_by(|a, b| a.ratio().total_cmp(&b.ratio()));
        if let Some(r) = worst {
            let value = if kind == ReplicationKind::Storage {
                format!("{} / {} obj", format::int(r.value), format::int(r.target))
            } else {
                format!("{} / {}", format::secs(r.value), format::secs(r.target))
            };
            let what = match kind {
                ReplicationKind::Database => "DB repl",
                ReplicationKind::Cache => "Cache sync",
                ReplicationKind::Storage => "Dual-write",
            };
            lines.push(Line::from(vec![
                label(what),
                Span::styled(value, target_style(r.ratio(), t)),
                Span::styled(format!("  worst: {}", sanitize(&r.name)), t.muted),
            ]));
            if kind == ReplicationKind::Database {
                urgent_at = lines.len();
            }
        }
    }
    // After the replication lines (below the worst alerts): the links explain them.
    lines.extend(f.links.iter().map(|l| link_line(l, width, v)));
    if !f.spot_prices.is_empty() {
        let words = super::cost::cheapest_words(f);
        let words = words.strip_prefix("next scale-out: ").unwrap_or(&words);
        let saves = f.cheapest_capacity().and_then(|(_, p)| p.discount());
        lines.push(Line::from(vec![
            label("Scale-out"),
            Span::styled(fit(words, width.saturating_sub(20)), t.base),
            Span::styled(saves.map_or_else(String::new, |d| format!(" ({})", format::saving(d))), t.ok),
        ]));
    }
    if !f.routes.is_empty() {
        // Per cloud, each channel once (an estate has many routes to few places);
        // the Routes view (p on Alerts) has every route.
        let mut by_cloud: std::collections::BTreeMap<Option<crate::model::CloudKind>, Vec<String>> = Default::default();
        for r in &f.routes {
            let seen = by_cloud.entry(r.cloud).or_default();
            for c in &r.channels {
                let l = sanitize(&c.label()).into_owned();
                if !seen.contains(&l) {
                    seen.push(l);
                }
            }
        }
        let mut parts: Vec<String> = by_cloud
            .iter()
            .filter(|(cloud, _)| cloud.is_some())
            .map(|(cloud, ch)| format!("{} {}", cloud.map_or("any", |c| c.label()), channels_or_none(ch)))
            .collect();
        if let Some(any) = by_cloud.get(&None) {
            parts.push(format!("any {}", channels_or_none(any)));
        }
        lines.push(Line::from(vec![
            label("Paging"),
            Span::styled(fit(&parts.join(" · "), width.saturating_sub(12)), t.base),
        ]));
    }
    let worst = v.app.worst_alerts.iter().filter_map(|&i| f.alerts.get(i));
    let room = usize::from(area.height.saturating_sub(2)).saturating_sub(lines.len());
    let alert_lines: Vec<Line> = worst
        .take(room.max(3))
        .map(|a| {
            let age = format::age((v.now - a.started_at).num_seconds());
            let text = format!("{} {} {}", a.cloud.map_or("", |c| c.label()), age, sanitize(&a.title));
            Line::from(vec![
                Span::styled(format!("{:<12}", a.severity.label()), t.severity[a.severity.index()]),
                Span::styled(fit(&text, width.saturating_sub(12)), t.base),
            ])
        })
        .collect();
    let mut alert_lines = alert_lines.into_iter();
    let rest = lines.split_off(urgent_at);
    lines.extend(alert_lines.by_ref().take(3));
    lines.extend(rest);
    lines.extend(alert_lines);
    frame.render_widget(Paragraph::new(lines).style(t.base).block(block("Estate", t)), area);
}

/// "pagerduty:…+sms:…", or that nobody is paged.
fn channels_or_none(channels: &[String]) -> String {
    if channels.is_empty() { "no channel".into() } else { channels.join("+") }
}
