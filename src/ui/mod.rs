//! Drawing only: `draw(frame, &View)` is a pure function of the app state, the
//! Fleet, the theme and the time. No pane calls a provider or changes state.

pub mod alerts;
pub mod ascii;
pub mod audit;
pub mod cost;
pub mod dialog;
pub use crate::format;
pub mod health;
pub mod help;
pub mod logs;
pub mod overview;
pub mod routes;
pub mod sanitize;
pub mod slo;
pub mod timeline;
pub mod traffic;
pub mod wallboard;
mod widgets;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

pub use sanitize::sanitize;

use crate::app::{App, Level, Mode, Pane, keymap};
use crate::model::{Fleet, Freshness};
use crate::theme::Theme;

/// Below this the layout cannot hold; a message says so instead.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 12;

/// Everything a frame is drawn from.
pub struct View<'a> {
    pub app: &'a App,
    pub fleet: &'a Fleet,
    pub theme: &'a Theme,
    pub now: DateTime<Utc>,
}

pub fn draw(frame: &mut Frame, v: &View) {
    let area = frame.area();
    frame.render_widget(Paragraph::new("").style(v.theme.base), area);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!("terminal too small: {}×{} (need {MIN_WIDTH}×{MIN_HEIGHT})", area.width, area.height);
        frame.render_widget(Paragraph::new(msg).style(v.theme.warn).wrap(ratatui::widgets::Wrap { trim: true }), area);
        return;
    }
    let [header, body, footer] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1)]).areas(area);
    draw_header(frame, header, v);
    match v.app.pane {
        Pane::Overview => overview::draw(frame, body, v),
        Pane::Health => health::draw(frame, body, v),
        Pane::Traffic => traffic::draw(frame, body, v),
        Pane::Cost => cost::draw(frame, body, v),
        Pane::Alerts => alerts::draw(frame, body, v),
        Pane::Logs => logs::draw(frame, body, v),
        Pane::Audit => audit::draw(frame, body, v),
        Pane::Timeline => timeline::draw(frame, body, v),
        Pane::Help => help::draw(frame, body, v),
    }
    draw_footer(frame, footer, v);
    match &v.app.mode {
        Mode::Palette(p) => draw_candidates(frame, body, &p.candidates, p.selected, v.theme),
        Mode::Confirm(d) => dialog::draw(frame, body, d, v),
        _ => {}
    }
    if v.theme.ascii {
        ascii::asciify(frame.buffer_mut());
    }
}

fn draw_header(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let mut left = vec![Span::styled(" opsdeck ", t.header)];
    if v.fleet.demo {
        left.push(Span::raw(" "));
        left.push(Span::styled(" DEMO ", t.badge));
    }
    if v.app.read_only {
        left.push(Span::raw(" "));
        left.push(Span::styled(" READ-ONLY ", t.badge));
    }
    if !v.fleet.drills.is_empty() {
        left.push(Span::raw(" "));
        left.push(Span::styled(
            format!(" DRILL×{} ", v.fleet.drills.len()),
            t.crit.add_modifier(ratatui::style::Modifier::REVERSED),
        ));
    }
    left.push(Span::raw(" "));

    // Right side: open alerts by severity, data age, clock.
    let mut right: Vec<Span> = Vec::new();
    let open = v.app.alert_counts.total;
    for s in crate::model::Severity::ALL {
        let n = open[s.index()];
        if n > 0 {
            right.push(Span::styled(format!("{}:{n} ", s.label()), t.severity[s.index()]));
        }
    }
    let (age_text, age_style) = data_age(v);
    right.push(Span::styled(age_text, age_style));
    // In low-bandwidth mode the clock shows minutes, so an idle screen changes once a minute.
    let clock = if v.app.low_bandwidth { v.now.format("%H:%MZ") } else { v.now.format("%H:%M:%SZ") };
    right.push(Span::styled(format!(" {clock} "), t.accent));
    let right_width: usize = right.iter().map(|s| s.width()).sum();
    let left_width: usize = left.iter().map(|s| s.width()).sum();

    // Tabs: full titles when they fit, else digits with the current title.
    let budget = usize::from(area.width).saturating_sub(left_width + right_width + 1);
    let full: Vec<String> = Pane::ALL.iter().map(|p| format!("{} {}", p.index() + 1, p.title())).collect();
    let full_width: usize = full.iter().map(|s| s.chars().count() + 1).sum();
    for (i, p) in Pane::ALL.iter().enumerate() {
        let label = if full_width <= budget || *p == v.app.pane { full[i].clone() } else { format!("{}", i + 1) };
        let style = if *p == v.app.pane { t.selection } else { t.muted };
        left.push(Span::styled(label, style));
        left.push(Span::raw(" "));
    }
    // One column of air between the tabs and the right side, whatever the width.
    let [l, _, r] =
        Layout::horizontal([Constraint::Min(1), Constraint::Length(1), Constraint::Length(right_width as u16)])
            .areas(area);
    frame.render_widget(Paragraph::new(Line::from(left)), l);
    frame.render_widget(Paragraph::new(Line::from(right)), r);
}

/// "data 3s" from the oldest source; "STALE" when any source is failing.
fn data_age(v: &View) -> (String, Style) {
    let t = v.theme;
    let stale = v.fleet.sources.iter().filter(|s| matches!(s.freshness, Freshness::Stale { .. })).count();
    let oldest = v.fleet.sources.iter().filter_map(|s| s.age_secs(v.now)).max();
    let pending = v.fleet.sources.iter().any(|s| s.freshness == Freshness::Pending);
    let partial = v.fleet.sources.iter().filter(|s| !s.partial.is_empty()).count();
    match (stale, oldest) {
        (0, Some(a)) if !pending && partial > 0 => (format!("PARTIAL {partial} src, data {}", format::age(a)), t.warn),
        (0, Some(a)) if !pending => (format!("data {}", format::age(a)), t.muted),
        (0, _) => ("loading…".into(), t.muted),
        (n, Some(a)) => (format!("STALE {n} src, data {}", format::age(a)), t.crit),
        (n, None) => (format!("STALE {n} src, no data"), t.crit),
    }
}

fn draw_footer(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let line = match &v.app.mode {
        Mode::Palette(p) => Line::from(vec![
            Span::styled(":", t.accent),
            Span::styled(sanitize(&p.input).into_owned(), t.base),
            Span::styled("█", t.accent),
            Span::styled("  Tab complete · ↑↓ choose · Enter run · Esc cancel", t.muted),
        ]),
        Mode::Filter => Line::from(vec![
            Span::styled("/", t.accent),
            Span::styled(v.app.list().map(|l| l.filter.clone()).unwrap_or_default(), t.base),
            Span::styled("█", t.accent),
            Span::styled("  Enter keep · Esc clear", t.muted),
        ]),
        Mode::Confirm(_) => Line::from(Span::styled(" CONFIRM ", t.badge)),
        Mode::Normal => match &v.app.status {
            Some(s) => Line::from(Span::styled(
                sanitize(&s.text).into_owned(),
                if s.level == Level::Error { t.crit } else { t.ok },
            )),
            None => {
                let mut spans = Vec::new();
                for (k, help) in keymap::hints(v.app.pane) {
                    spans.push(Span::styled(format!(" {k} "), t.selection));
                    spans.push(Span::styled(format!(" {help}  "), t.muted));
                }
                Line::from(spans)
            }
        },
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// Completion candidates, drawn over the bottom of the body.
fn draw_candidates(frame: &mut Frame, body: Rect, candidates: &[String], selected: Option<usize>, t: &Theme) {
    if candidates.is_empty() {
        return;
    }
    let shown = candidates.len().min(8).min(usize::from(body.height));
    let start = selected.map_or(0, |s| s.saturating_sub(shown - 1));
    let area = Rect { y: body.bottom() - shown as u16, height: shown as u16, ..body };
    frame.render_widget(Clear, area);
    let lines: Vec<Line> = candidates
        .iter()
        .enumerate()
        .skip(start)
        .take(shown)
        .map(|(i, c)| {
            let style = if Some(i) == selected { t.selection } else { t.base };
            Line::from(Span::styled(format!(" {c}"), style))
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).style(t.base), area);
}
