//! The wallboard: big tiles legible across a room, rotating pages, a clock and the
//! data's age, and a red STALE banner when no source has reported for too long.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::widgets::{block, fit};
use super::{MIN_HEIGHT, MIN_WIDTH, format, sanitize};
use crate::app::views::{AlertCounts, worst_open};
use crate::app::wallboard::{PAGES, Wallboard};
use crate::model::{CloudKind, Fleet, Health};
use crate::theme::Theme;

pub struct WallView<'a> {
    pub board: &'a Wallboard,
    pub fleet: &'a Fleet,
    pub theme: &'a Theme,
    pub now: DateTime<Utc>,
    /// Seconds without any source reporting after which the board shows STALE.
    pub stale_after_secs: i64,
}

/// 3×5 block digits, for figures read from across a room.
fn glyph(c: char) -> [&'static str; 5] {
    match c {
        '0' => ["███", "█ █", "█ █", "█ █", "███"],
        '1' => [" █ ", "██ ", " █ ", " █ ", "███"],
        '2' => ["███", "  █", "███", "█  ", "███"],
        '3' => ["███", "  █", "███", "  █", "███"],
        '4' => ["█ █", "█ █", "███", "  █", "  █"],
        '5' => ["███", "█  ", "███", "  █", "███"],
        '6' => ["███", "█  ", "███", "█ █", "███"],
        '7' => ["███", "  █", "  █", "  █", "  █"],
        '8' => ["███", "█ █", "███", "█ █", "███"],
        '9' => ["███", "█ █", "███", "  █", "███"],
        '%' => ["█ █", "  █", " █ ", "█  ", "█ █"],
        '.' => ["   ", "   ", "   ", "   ", " █ "],
        '–' => ["   ", "   ", "███", "   ", "   "],
        _ => ["   ", "   ", "   ", "   ", "   "],
    }
}

/// Render `text` in block digits: five lines.
pub fn big(text: &str) -> Vec<String> {
    (0..5).map(|row| text.chars().map(|c| glyph(c)[row]).collect::<Vec<_>>().join(" ")).collect()
}

/// The time of the newest good poll of any source.
fn newest_data(fleet: &Fleet) -> Option<DateTime<Utc>> {
    fleet.sources.iter().filter_map(|s| s.last_ok).max()
}

pub fn draw(frame: &mut Frame, v: &WallView) {
    let area = frame.area();
    let t = v.theme;
    frame.render_widget(Block::default().style(t.base), area);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        frame.render_widget(
            Paragraph::new(format!("terminal too small: {}×{}", area.width, area.height)).style(t.warn),
            area,
        );
        return;
    }
    let age = newest_data(v.fleet).map(|d| (v.now - d).num_seconds());
    let stale = age.is_none_or(|a| a > v.stale_after_secs) && !v.fleet.sources.is_empty();
    let [header, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let page = format!(" page {}/{PAGES}{} ", v.board.page + 1, if v.board.paused { " (paused)" } else { "" });
    let age_text = age.map_or("no data".to_string(), |a| format!("data {}", format::age(a)));
    let header_line = Line::from(vec![
        Span::styled(" opsdeck wallboard ", t.header),
        Span::raw(" "),
        Span::styled(if v.fleet.demo { " DEMO " } else { "" }, t.badge),
        Span::styled(page, t.muted),
        Span::styled(format!(" {age_text} "), if stale { t.crit } else { t.muted }),
        Span::styled(format!(" {} ", v.now.format("%H:%M:%SZ")), t.accent),
    ]);
    frame.render_widget(Paragraph::new(header_line), header);
    if stale {
        draw_stale(frame, body, v, age);
        if t.ascii {
            super::ascii::asciify(frame.buffer_mut());
        }
        return;
    }
    match v.board.page {
        0 => draw_clouds(frame, body, v),
        _ => draw_alerts(frame, body, v),
    }
    if t.ascii {
        super::ascii::asciify(frame.buffer_mut());
    }
}

fn draw_stale(frame: &mut Frame, area: Rect, v: &WallView, age: Option<i64>) {
    let t = v.theme;
    let style = Style::default()
        .fg(t.header.fg.unwrap_or_default())
        .bg(t.crit.fg.unwrap_or_default())
        .add_modifier(Modifier::BOLD);
    let since = age.map_or("no source has ever reported".to_string(), |a| {
        format!("no source has reported for {}", format::age(a))
    });
    let mut lines: Vec<Line> = vec![Line::from(""); usize::from(area.height / 3)];
    lines.push(Line::from("S T A L E"));
    lines.push(Line::from(""));
    lines.push(Line::from(since));
    lines.push(Line::from("the figures on this board cannot be trusted"));
    frame.render_widget(Paragraph::new(lines).alignment(Alignment::Center).style(style), area);
}

fn health_style(h: Health, t: &Theme) -> Style {
    let bg = match h {
        Health::Idle => t.muted.fg,
        Health::Ok => t.ok.fg,
        Health::Degraded => t.warn.fg,
        Health::Down => t.crit.fg,
        Health::Unknown => t.unknown.fg,
    };
    Style::default().fg(t.header.fg.unwrap_or_default()).bg(bg.unwrap_or_default()).add_modifier(Modifier::BOLD)
}

fn draw_clouds(frame: &mut Frame, area: Rect, v: &WallView) {
    let clouds = v.fleet.clouds();
    if clouds.is_empty() {
        frame.render_widget(Paragraph::new("waiting for data").style(v.theme.muted), area);
        return;
    }
    let counts = AlertCounts::of(v.fleet);
    let cols = Layout::horizontal(vec![Constraint::Ratio(1, clouds.len() as u32); clouds.len()]).split(area);
    for (cloud, col) in clouds.iter().zip(cols.iter()) {
        draw_cloud(frame, *col, *cloud, &counts, v);
    }
}

fn draw_cloud(frame: &mut Frame, area: Rect, cloud: CloudKind, counts: &AlertCounts, v: &WallView) {
    let t = v.theme;
    let s = v.fleet.summary(cloud, v.now);
    let inner_w = usize::from(area.width.saturating_sub(2));
    let place = match s.regions.len() {
        0 => String::new(),
        1 => format!(" {}", sanitize(&s.region)),
        n => format!(" · {n} regions"),
    };
    let demo = match (v.fleet.mixes_demo(), s.demo, s.partly_demo) {
        (true, true, _) => "DEMO ",
        (true, false, true) => "part DEMO ",
        _ => "",
    };
    let b = block(format!("{demo}{}{place}", cloud.label()), t);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let status_h = (inner.height / 3).clamp(3, 7);
    let [status, share, rest] =
        Layout::vertical([Constraint::Length(status_h), Constraint::Length(7), Constraint::Min(0)]).areas(inner);
    let mut status_lines = vec![Line::from(""); usize::from(status_h.saturating_sub(1) / 2)];
    status_lines.push(Line::from(s.health.label()));
    frame.render_widget(
        Paragraph::new(status_lines).alignment(Alignment::Center).style(health_style(s.health, t)),
        status,
    );
    // No DNS policy read: the share is unknown, shown as a dash, not a big 0 %.
    let share_text = s.traffic_share.map_or_else(|| "–".to_string(), |share| format!("{:.0}%", share * 100.0));
    let digits: Vec<Line> = if big(&share_text)[0].chars().count() <= inner_w {
        big(&share_text).into_iter().map(Line::from).collect()
    } else {
        vec![Line::from(share_text)]
    };
    let mut share_lines = vec![Line::from(Span::styled("traffic share", t.muted))];
    share_lines.extend(digits);
    frame.render_widget(Paragraph::new(share_lines).alignment(Alignment::Center).style(t.accent), share);
    let open = counts.cloud(cloud);
    let figure = super::overview::figure;
    let mut lines = vec![
        Line::from(format!("{} req/s   p95 {} ms", figure(s.rps, format::int), figure(s.p95_ms, format::int))),
        Line::from(format!("5xx {}", figure(s.error_rate, format::pct))),
    ];
    // Several regions: each on a line of its own, so none disappears from the room.
    if s.regions.len() > 1 {
        for r in &s.regions {
            let text = format!("{} {} {} req/s", sanitize(&r.region), r.health.label(), figure(r.rps, format::int));
            lines.push(Line::from(Span::styled(fit(&text, inner_w), health_style(r.health, t))));
        }
    }
    if let Some((lag, rpo)) = s.db_lag {
        lines.push(Line::from(format!("DB lag {} / RPO {}", format::secs(lag), format::secs(rpo))));
    }
    let alerts: Vec<Span> = crate::model::Severity::ALL
        .into_iter()
        .filter(|sev| open[sev.index()] > 0)
        .map(|sev| Span::styled(format!(" {} ×{} ", sev.label(), open[sev.index()]), t.severity[sev.index()]))
        .collect();
    lines.push(if alerts.is_empty() { Line::from(Span::styled("no open alerts", t.ok)) } else { Line::from(alerts) });
    frame.render_widget(Paragraph::new(lines).alignment(Alignment::Center).style(t.base), rest);
}

fn draw_alerts(frame: &mut Frame, area: Rect, v: &WallView) {
    let t = v.theme;
    let clouds = v.fleet.clouds();
    let bars_h = (clouds.len() as u16 * 2 + 2).min(area.height / 2);
    let [alerts, bars] = Layout::vertical([Constraint::Min(3), Constraint::Length(bars_h)]).areas(area);
    let width = usize::from(alerts.width.saturating_sub(4));
    let rows = usize::from(alerts.height.saturating_sub(2)) / 2;
    let mut lines = Vec::new();
    for i in worst_open(v.fleet, rows.max(1)) {
        let Some(a) = v.fleet.alerts.get(i) else { continue };
        let age = format::age((v.now - a.started_at).num_seconds());
        let text = format!(" {} · {} · {}", a.cloud.map_or("–", |c| c.label()), age, sanitize(&a.title));
        lines.push(Line::from(vec![
            Span::styled(
                format!(" {} ", a.severity.label()),
                t.severity[a.severity.index()].add_modifier(Modifier::REVERSED),
            ),
            Span::styled(fit(&text, width.saturating_sub(5)), t.base.add_modifier(Modifier::BOLD)),
        ]));
        lines.push(Line::from(""));
    }
    if lines.is_empty() {
        lines.push(Line::from(Span::styled("no open alerts", t.ok)));
    }
    frame.render_widget(Paragraph::new(lines).block(block("Worst open alerts", t)), alerts);
    let bar_w = usize::from(bars.width.saturating_sub(24)).max(4);
    let mut lines = Vec::new();
    for c in clouds {
        // No DNS policy read: no share to draw, rather than a row of empty bars at 0 %.
        let share = (!v.fleet.policies.is_empty()).then(|| v.fleet.traffic_share(c));
        let filled = (share.unwrap_or(0.0) * bar_w as f64).round() as usize;
        lines.push(Line::from(vec![
            Span::styled(format!(" {:<8} {:>6} ", c.label(), super::overview::figure(share, format::pct)), t.base),
            Span::styled("█".repeat(filled), t.accent),
        ]));
        lines.push(Line::from(""));
    }
    frame.render_widget(Paragraph::new(lines).block(block("Traffic share", t)), bars);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_digits_line_up() {
        let b = big("42%");
        assert_eq!(b.len(), 5);
        assert!(b.iter().all(|l| l.chars().count() == 11));
        assert_eq!(b[0], "█ █ ███ █ █");
    }
}
