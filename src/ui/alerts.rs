//! Alerts: every source's alerts merged, sorted and filtered. Only the visible
//! rows are built, so 100,000 alerts draw as fast as 100.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::widgets::{block, fit};
use super::{View, format, sanitize};
use crate::app::routes;
use crate::app::views::scroll_offset;
use crate::model::{Alert, AlertState};

/// Rows the detail box under the table takes (three lines and its border).
const DETAIL_HEIGHT: u16 = 5;

pub fn draw(frame: &mut Frame, area: Rect, v: &View) {
    if v.app.show_routes {
        return super::routes::draw(frame, area, v);
    }
    // The selected alert's labels and who silenced it need more room than a row has;
    // on a short terminal the table keeps every line.
    let (area, detail) = if area.height >= 15 {
        let [table, detail] = Layout::vertical([Constraint::Min(6), Constraint::Length(DETAIL_HEIGHT)]).areas(area);
        (table, Some(detail))
    } else {
        (area, None)
    };
    draw_table(frame, area, v);
    if let Some(detail) = detail {
        draw_detail(frame, detail, v);
    }
}

fn draw_detail(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let selected = v.app.alert_rows.get(v.app.alerts.selected).and_then(|&i| v.fleet.alerts.get(i));
    let lines = match selected {
        Some(a) => detail_lines(a, v, usize::from(area.width.saturating_sub(2))),
        None => vec![Line::from(Span::styled("no alert selected", t.muted))],
    };
    frame.render_widget(Paragraph::new(lines).style(t.base).block(block("Selected alert", t)), area);
}

fn detail_lines<'a>(a: &Alert, v: &View, width: usize) -> Vec<Line<'a>> {
    let t = v.theme;
    let state = match &a.state {
        AlertState::Acknowledged { by, at, comment } => format!(
            "acked by {} {} ago: {}",
            sanitize(by),
            format::age((v.now - *at).num_seconds()),
            if comment.is_empty() { "(no comment)".into() } else { sanitize(comment) }
        ),
        AlertState::Inhibited { by } => format!("inhibited by {}", sanitize(by)),
        s => format!("{} since {} · {} · {}", s.label(), a.started_at.format("%H:%M:%S UTC"), a.source, a.id),
    };
    let labels = if a.labels.is_empty() {
        "no labels".to_string()
    } else {
        let pairs: Vec<String> = a.labels.iter().map(|(k, v)| format!("{}={}", sanitize(k), sanitize(v))).collect();
        pairs.join("  ")
    };
    // Where it paged: the receivers of its source's routes it takes, and their channels.
    let paged = sanitize(&routes::paging_words(a, v.fleet)).into_owned();
    vec![
        Line::from(Span::raw(fit(&state, width))),
        Line::from(Span::styled(fit(&paged, width), t.base)),
        Line::from(Span::styled(fit(&labels, width), t.muted)),
    ]
}

fn draw_table(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let f = v.fleet;
    let rows = &v.app.alert_rows;
    let visible = usize::from(area.height.saturating_sub(3));
    let selected = v.app.alerts.selected.min(rows.len().saturating_sub(1));
    let offset = scroll_offset(selected, visible);
    let wide = area.width >= 120;
    // Borders, column gaps and the fixed columns take 31 (77 when wide); the title gets the rest.
    let title_w = usize::from(area.width.saturating_sub(if wide { 90 } else { 31 })).max(10);
    let body: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(visible)
        .filter_map(|(i, &ai)| {
            let a = f.alerts.get(ai)?;
            let state = match &a.state {
                AlertState::Acknowledged { by, .. } if wide => fit(&format!("ack {}", sanitize(by)), 22),
                s => s.label().to_string(),
            };
            let mut cells = vec![
                Cell::from(Span::styled(a.severity.label(), t.severity[a.severity.index()])),
                Cell::from(a.cloud.map_or("–", |c| c.label())),
                Cell::from(format::age((v.now - a.started_at).num_seconds())),
                Cell::from(state),
                Cell::from(fit(&sanitize(&a.title), title_w)),
            ];
            if wide {
                cells.push(Cell::from(sanitize(&a.resource).into_owned()));
                cells.push(Cell::from(sanitize(&a.route).into_owned()));
            }
            let row = Row::new(cells);
            Some(if i == selected { row.style(t.selection) } else { row })
        })
        .collect();
    let mut header = vec!["Sev", "Cloud", "Age", "State", "Alert"];
    let mut widths = vec![
        Constraint::Length(3),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(if wide { 22 } else { 9 }),
        Constraint::Min(10),
    ];
    if wide {
        header.extend(["Resource", "Route"]);
        widths.extend([Constraint::Length(24), Constraint::Length(20)]);
    }
    let filter = &v.app.alerts.filter;
    let mut title = format!("Alerts ({}) by {}", rows.len(), v.app.alert_sort.label());
    if !filter.is_empty() {
        title.push_str(&format!(", filter '{}'", sanitize(filter)));
    }
    frame.render_widget(
        Table::new(body, widths).header(Row::new(header).style(t.muted)).style(t.base).block(block(title, t)),
        area,
    );
}
