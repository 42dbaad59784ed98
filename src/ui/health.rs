//! Health: scaling groups per cloud/region/zone, DNS endpoints with their health
//! checks, and replication / cache / storage sync against their targets.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::widgets::{block, health_glyph, health_style, target_style};
use super::{View, format, sanitize};
use crate::app::views::scroll_offset;
use crate::model::{Health, ReplicationKind};

pub fn draw(frame: &mut Frame, area: Rect, v: &View) {
    let f = v.fleet;
    let endpoints: usize = f.policies.iter().map(|p| p.endpoints.len()).sum();
    let sync = f.replication.len();
    // Endpoints and sync keep all their rows; the group list (the long one, which
    // scrolls) takes what is left, but never less than a few rows.
    let endpoints_h = (endpoints.max(1) + 3) as u16;
    let sync_h = (sync.max(1) + 3) as u16;
    if area.width >= 140 {
        let [groups, lower] =
            Layout::vertical([Constraint::Min(5), Constraint::Length(endpoints_h.max(sync_h))]).areas(area);
        draw_groups(frame, groups, v);
        let [e, s] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(lower);
        draw_endpoints(frame, e, v);
        draw_sync(frame, s, v);
    } else {
        let [groups, e, s] =
            Layout::vertical([Constraint::Min(5), Constraint::Length(endpoints_h), Constraint::Length(sync_h)])
                .areas(area);
        draw_groups(frame, groups, v);
        draw_endpoints(frame, e, v);
        draw_sync(frame, s, v);
    }
}

fn draw_groups(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let f = v.fleet;
    let rows = &v.app.zone_rows;
    let visible = usize::from(area.height.saturating_sub(3));
    let selected = v.app.health.selected.min(rows.len().saturating_sub(1));
    let offset = scroll_offset(selected, visible);
    // With the demo beside real sources, the demo's groups say DEMO on their row.
    let label_demo = f.mixes_demo();
    let body: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(visible)
        .filter_map(|(i, &(gi, zi))| {
            let g = f.groups.get(gi)?;
            let z = g.zones.get(zi)?;
            let zone_health = if g.idle().is_some() {
                Health::Idle
            } else if z.healthy == 0 && g.desired > 0 {
                Health::Down
            } else if z.healthy < z.in_service {
                Health::Degraded
            } else {
                Health::Ok
            };
            // An idle group says so where its counts would be; its own word, not DOWN.
            let counts = match g.idle() {
                Some(reason) => reason.label().to_string(),
                None => format!("{:>3}/{:<3}", g.healthy(), g.desired),
            };
            let name = if label_demo && f.is_demo_source(&g.source) {
                Line::from(vec![Span::styled("DEMO ", t.badge), Span::raw(sanitize(&g.name).into_owned())])
            } else {
                Line::from(sanitize(&g.name).into_owned())
            };
            let row = Row::new(vec![
                Cell::from(Span::styled(health_glyph(zone_health), health_style(zone_health, t))),
                Cell::from(g.cloud.label()),
                Cell::from(sanitize(&g.region).into_owned()),
                Cell::from(name),
                Cell::from(sanitize(&z.zone).into_owned()),
                Cell::from(format!("{:>3}", z.in_service)),
                Cell::from(Span::styled(format!("{:>3}", z.healthy), health_style(zone_health, t))),
                Cell::from(Span::styled(counts, health_style(g.health(), t))),
                Cell::from(format!("{}–{}", g.min, g.max)),
                Cell::from(format!("{:.0}%", g.spot_share * 100.0)),
            ]);
            Some(if i == selected { row.style(t.selection) } else { row })
        })
        .collect();
    let header =
        Row::new(["", "Cloud", "Region", "Group", "Zone", "Svc", "Hlt", "Grp h/d", "Min–Max", "Spot"]).style(t.muted);
    let filter = &v.app.health.filter;
    let title = if filter.is_empty() {
        format!("Scaling groups ({} zone rows)", rows.len())
    } else {
        format!("Scaling groups ({} match '{}')", rows.len(), sanitize(filter))
    };
    let widths = [
        Constraint::Length(1),
        Constraint::Length(7),
        Constraint::Length(12),
        Constraint::Min(8),
        Constraint::Length(14),
        Constraint::Length(3),
        Constraint::Length(3),
        // Widened only while a group shows "inactive", the longest word here.
        Constraint::Length(if f.groups.iter().any(|g| g.inactive) { 8 } else { 7 }),
        Constraint::Length(7),
        Constraint::Length(4),
    ];
    frame.render_widget(Table::new(body, widths).header(header).style(t.base).block(block(title, t)), area);
}

fn draw_endpoints(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let mut rows = Vec::new();
    let mut title = "DNS endpoints".to_string();
    for p in &v.fleet.policies {
        title = format!("DNS {} ({}, ttl {}s)", sanitize(&p.name), p.kind.label(), p.ttl_secs);
        for (e, share) in p.endpoints.iter().zip(p.shares()) {
            rows.push(Row::new(vec![
                Cell::from(Span::styled(
                    format!("{} {}", health_glyph(e.health), e.health.label()),
                    health_style(e.health, t),
                )),
                Cell::from(e.cloud.label()),
                Cell::from(sanitize(&e.name).into_owned()),
                Cell::from(format!("{:>3}", e.weight)),
                Cell::from(format::pct(share)),
                Cell::from(sanitize(&e.check).into_owned()),
            ]));
        }
    }
    if rows.is_empty() {
        frame.render_widget(Paragraph::new("no traffic policy").style(t.muted).block(block(title, t)), area);
        return;
    }
    let header = Row::new(["Health", "Cloud", "Endpoint", "Wgt", "Share", "Health check"]).style(t.muted);
    let widths = [
        Constraint::Length(10),
        Constraint::Length(7),
        Constraint::Length(22),
        Constraint::Length(3),
        Constraint::Length(6),
        Constraint::Min(10),
    ];
    frame.render_widget(Table::new(rows, widths).header(header).style(t.base).block(block(title, t)), area);
}

fn draw_sync(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let rows: Vec<Row> = v
        .fleet
        .replication
        .iter()
        .map(|r| {
            let (value, target) = if r.kind == ReplicationKind::Storage {
                (format!("{} obj", format::int(r.value)), format!("{} obj", format::int(r.target)))
            } else {
                (format::secs(r.value), format::secs(r.target))
            };
            Row::new(vec![
                Cell::from(r.kind.label()),
                Cell::from(format!("{}→{}", r.from.label(), r.to.label())),
                Cell::from(Span::styled(value, target_style(r.ratio(), t))),
                Cell::from(target),
                Cell::from(sanitize(&r.name).into_owned()),
            ])
        })
        .collect();
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::from("no replication reported")).style(t.muted).block(block("Sync", t)),
            area,
        );
        return;
    }
    let header = Row::new(["Kind", "Link", "Now", "Target", "Name"]).style(t.muted);
    let widths = [
        Constraint::Length(7),
        Constraint::Length(15),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Min(10),
    ];
    frame.render_widget(
        Table::new(rows, widths).header(header).style(t.base).block(block("Replication and sync (target: RPO)", t)),
        area,
    );
}
