//! Audit: every action attempted in this session and before it (from the audit
//! log), newest first, with who, outcome and the provider's request id.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::widgets::{block, fit};
use super::{View, sanitize};
use crate::actions::Outcome;

pub fn draw(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let title = if v.app.read_only { "Audit (read-only session)".to_string() } else { "Audit".to_string() };
    if v.app.audit.is_empty() {
        frame.render_widget(
            Paragraph::new("No action has been attempted yet. Every failover, scale and acknowledgement — refused, cancelled, executed or failed — is recorded here and in the audit log.")
                .style(t.muted)
                .wrap(ratatui::widgets::Wrap { trim: true })
                .block(block(title, t)),
            area,
        );
        return;
    }
    // The followed failover (live, or the last one) under the list: its phases
    // and what each resolver and the traffic last showed.
    let area = match &v.app.rto {
        Some(rto) => {
            let lines = rto_lines(rto);
            let h = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX).min(area.height / 2);
            let [list, panel] =
                ratatui::layout::Layout::vertical([Constraint::Min(3), Constraint::Length(h)]).areas(area);
            let title = if rto.finished_at.is_some() { "RTO measured" } else { "RTO: following" };
            let text: Vec<ratatui::text::Line> = lines.into_iter().map(ratatui::text::Line::from).collect();
            frame.render_widget(Paragraph::new(text).style(t.base).block(block(title.to_string(), t)), panel);
            list
        }
        None => area,
    };
    let visible = usize::from(area.height.saturating_sub(3));
    let detail_w = usize::from(area.width.saturating_sub(83)).max(10);
    let rows: Vec<Row> = v
        .app
        .audit
        .iter()
        .rev()
        .take(visible)
        .map(|r| {
            let style = match r.outcome {
                Outcome::Executed | Outcome::Landed | Outcome::Measured => t.ok,
                Outcome::Failed | Outcome::Unknown | Outcome::NotLanded => t.crit,
                Outcome::Refused => t.warn,
                Outcome::Cancelled => t.muted,
            };
            let detail = match (&r.rto, &r.forced, &r.error, &r.request_id) {
                (Some(rto), ..) => phases(rto),
                (None, f, e, id) => match (f, e, id) {
                    (_, Some(e), _) => format!("error: {e}"),
                    (Some(f), _, Some(id)) => format!("{id} FORCED: {f}"),
                    (_, _, Some(id)) => id.clone(),
                    _ => r.plan.first().cloned().unwrap_or_default(),
                },
            };
            Row::new(vec![
                Cell::from(r.time.format("%m-%d %H:%M:%S").to_string()),
                Cell::from(fit(&sanitize(&r.actor.label()), 22)),
                Cell::from(Span::styled(r.outcome.label(), style)),
                Cell::from(fit(&sanitize(&r.action), 28)),
                Cell::from(fit(&sanitize(&detail), detail_w)),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(14),
        Constraint::Length(22),
        // The longest outcome, "not landed", whole.
        Constraint::Length(10),
        Constraint::Length(28),
        Constraint::Min(10),
    ];
    let header = Row::new(["Time (UTC)", "Who", "Outcome", "Action", "Request / reason"]).style(t.muted);
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .style(t.base)
            .block(block(format!("{title}: {} attempts", v.app.audit.len()), t)),
        area,
    );
}

/// The phases after the action, as the status line has them.
fn phases(rto: &crate::model::rto::Rto) -> String {
    rto.phases().iter().map(|(n, at)| rto.phase_text(n, *at)).collect::<Vec<_>>().join(" · ")
}

/// The panel's lines: the action and its phases, the prediction, then each
/// resolver's and the traffic's last reading. Remote names are sanitised.
fn rto_lines(rto: &crate::model::rto::Rto) -> Vec<String> {
    let mut out = vec![sanitize(&rto.line()).into_owned()];
    if let Some(p) = rto.predicted_secs {
        out.push(format!("predicted {p} s"));
    }
    out.extend(rto.detail().iter().map(|l| sanitize(l).into_owned()));
    out
}
