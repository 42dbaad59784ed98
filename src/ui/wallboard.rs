//! The wallboard: big tiles legible across a room, rotating pages, a clock and the
//! data's age, and a red STALE banner when no source has reported for too long.

use chrono::{DateTime, Utc};
use ratatui::backend::Backend;
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::{Frame, Terminal};

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

/// What the wallboard last put on the terminal. The board is rendered every
/// second (the rotation is timed in seconds), but most seconds change nothing
/// on screen; writing such a frame would still cost colour resets and a cursor
/// hide, so an unchanged frame is not written at all.
#[derive(Debug, Default)]
pub struct Screen {
    shown: Option<Buffer>,
}

impl Screen {
    /// Render `v` into the terminal's next buffer. True: it differs from the frame on
    /// screen, and the caller writes it with `Terminal::apply_buffer`. False: it is
    /// the frame already shown; the buffer is cleared for the next render and
    /// nothing is to be written.
    pub fn render<B: Backend>(&mut self, term: &mut Terminal<B>, v: &WallView) -> Result<bool, B::Error> {
        // A resize clears the screen and both buffers; the frame then differs.
        term.autoresize()?;
        let mut frame = term.get_frame();
        draw(&mut frame, v);
        let next = term.current_buffer_mut();
        if self.shown.as_ref() == Some(next) {
            next.reset();
            return Ok(false);
        }
        self.shown = Some(next.clone());
        Ok(true)
    }
}

/// The data's age as the header shows it. Under a minute it is the next 5-second
/// step above it ("<5s", "<10s"): a board read from across a room gains nothing
/// from the exact second, and an age that changed every second would redraw the
/// header every second. From a minute on it is `format::age`'s, which changes
/// once a minute. ASCII, so `--ascii` needs no stand-in.
pub fn age_label(age: Option<i64>) -> String {
    match age {
        None => "no data".to_string(),
        Some(a) if a < 60 => format!("data <{}s", (a.max(0) / 5 + 1) * 5),
        Some(a) => format!("data {}", format::age(a)),
    }
}

/// Every page is drawn inside the same frame with the page's name as its title,
/// so a page turn rewrites the page's content and one title, not the borders of
/// every tile (a tile border per cloud cost a cursor move per row on each turn).
fn page_title(page: usize) -> &'static str {
    match page {
        0 => "Clouds",
        _ => "Worst open alerts",
    }
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
    // Minutes only: the clock is read from across a room, and a seconds clock
    // would be the one thing redrawn every second on an idle board.
    let header_line = Line::from(vec![
        Span::styled(" opsdeck wallboard ", t.header),
        Span::raw(" "),
        Span::styled(if v.fleet.demo { " DEMO " } else { "" }, t.badge),
        Span::styled(page, t.muted),
        Span::styled(format!(" {} ", age_label(age)), if stale { t.crit } else { t.muted }),
        Span::styled(format!(" {} ", v.now.format("%H:%MZ")), t.accent),
    ]);
    frame.render_widget(Paragraph::new(header_line), header);
    if stale {
        draw_stale(frame, body, v, age);
        if t.ascii {
            super::ascii::asciify(frame.buffer_mut());
        }
        return;
    }
    let page_frame = block(page_title(v.board.page), t);
    let inner = page_frame.inner(body);
    frame.render_widget(page_frame, body);
    match v.board.page {
        0 => draw_clouds(frame, inner, v),
        _ => draw_alerts(frame, inner, v),
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
        frame.render_widget(Paragraph::new(Span::styled("waiting for data", v.theme.muted)), area);
        return;
    }
    let counts = AlertCounts::of(v.fleet);
    // Columns without borders of their own (the page frame is the only border):
    // the gap and each column's coloured status band keep the clouds apart.
    let cols = Layout::horizontal(vec![Constraint::Ratio(1, clouds.len() as u32); clouds.len()]).spacing(3).split(area);
    for (cloud, col) in clouds.iter().zip(cols.iter()) {
        draw_cloud(frame, *col, *cloud, &counts, v);
    }
}

fn draw_cloud(frame: &mut Frame, area: Rect, cloud: CloudKind, counts: &AlertCounts, v: &WallView) {
    let t = v.theme;
    let s = v.fleet.summary(cloud, v.now);
    let inner_w = usize::from(area.width);
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
    let title = Line::from(Span::styled(fit(&format!("{demo}{}{place}", cloud.label()), inner_w), t.accent));
    // Five rows at most: a band that size is seen across a room, and every row of
    // it is rewritten on each page turn.
    let status_h = (area.height / 3).clamp(3, 5);
    let [name, _, status, share, rest] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(status_h),
        Constraint::Length(7),
        Constraint::Min(0),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(title).alignment(Alignment::Center), name);
    let mut status_lines = vec![Line::from(""); usize::from(status_h.saturating_sub(1) / 2)];
    status_lines.push(Line::from(s.health.label()));
    frame.render_widget(
        Paragraph::new(status_lines).alignment(Alignment::Center).style(health_style(s.health, t)),
        status,
    );
    // No DNS policy read: the share is unknown, shown as a dash, not a big 0 %.
    let share_text = s.traffic_share.map_or_else(|| "–".to_string(), |share| format!("{:.0}%", share * 100.0));
    let digits: Vec<String> =
        if big(&share_text)[0].chars().count() <= inner_w { big(&share_text) } else { vec![share_text] };
    // Styled spans, not a styled area: a blank cell keeps the page's base style, so
    // it is the same cell on every page and a page turn does not rewrite it.
    let mut share_lines = vec![Line::from(Span::styled("traffic share", t.muted))];
    share_lines.extend(digits.into_iter().map(|d| Line::from(Span::styled(d, t.accent))));
    frame.render_widget(Paragraph::new(share_lines).alignment(Alignment::Center), share);
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
    // The traffic bars under a heading of their own, inside the page frame.
    let bars_h = (clouds.len() as u16 * 2 + 1).min(area.height / 2);
    let [alerts, bars] = Layout::vertical([Constraint::Min(2), Constraint::Length(bars_h)]).areas(area);
    let width = usize::from(alerts.width.saturating_sub(2));
    let rows = usize::from(alerts.height) / 2;
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
    frame.render_widget(Paragraph::new(lines), alerts);
    let bar_w = usize::from(bars.width.saturating_sub(24)).max(4);
    let mut lines = vec![Line::from(Span::styled(" Traffic share", t.accent))];
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
    frame.render_widget(Paragraph::new(lines), bars);
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

    #[test]
    fn the_age_moves_in_five_second_steps_then_in_minutes() {
        assert_eq!(age_label(None), "no data");
        for (secs, label) in [(0, "<5s"), (4, "<5s"), (5, "<10s"), (44, "<45s"), (59, "<60s")] {
            assert_eq!(age_label(Some(secs)), format!("data {label}"), "{secs} s");
        }
        assert_eq!(age_label(Some(60)), "data 1m");
        assert_eq!(age_label(Some(119)), "data 1m");
        assert_eq!(age_label(Some(3_700)), "data 1h01m");
        // The bound is true and tight: the age is below it and within 5 s of it.
        for secs in 0..60 {
            let label = age_label(Some(secs));
            let shown: i64 = label.trim_start_matches("data <").trim_end_matches('s').parse().expect("seconds");
            assert!(secs < shown && shown - secs <= 5, "{secs} s shown as {label}");
        }
    }
}
