//! The confirmation dialog: the plan as before → after, every guardrail with its
//! result, the time to effect, and what to type. Drawn over the current pane.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::widgets::{block, fit};
use super::{View, sanitize};
use crate::actions::ActionKind;
use crate::actions::guard::GuardState;
use crate::app::dialog::{Dialog, Force};

pub fn draw(frame: &mut Frame, area: Rect, d: &Dialog, v: &View) {
    let t = v.theme;
    let plan = &d.checked.plan;
    let width = area.width.saturating_sub(4).min(120);
    // Lines are cut to the width rather than wrapped, so the prompt is never pushed off.
    let text_w = usize::from(width.saturating_sub(2));
    let mut lines = vec![Line::from(Span::styled("Plan", t.accent))];
    for l in plan.describe() {
        lines.push(Line::from(Span::styled(fit(&format!("  {}", sanitize(&l)), text_w), t.base)));
    }
    if let (Some(secs), Some(words)) = (plan.time_to_effect_secs, &plan.effect) {
        lines.push(Line::from(Span::styled(format!("  Time to effect: about {secs}s ({words})"), t.muted)));
    } else if let Some(ttl) = plan.time_to_effect_secs {
        lines.push(Line::from(Span::styled(
            format!("  Time to effect: clients follow within the DNS TTL, about {ttl}s"),
            t.muted,
        )));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("Guardrails", t.accent)));
    for g in &d.checked.guards {
        // Unknown is amber: nothing to judge by. Required, it refuses like a failure.
        let (mark, style) = match g.state {
            GuardState::Passed => ("✔", t.ok),
            GuardState::Unknown if g.required => ("?", t.crit),
            GuardState::Unknown => ("?", t.warn),
            GuardState::Failed => ("✖", t.crit),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {mark} {:<24}", g.name), style),
            Span::styled(fit(&sanitize(&g.detail), text_w.saturating_sub(28)), t.base),
        ]));
    }
    lines.push(Line::from(""));
    match &d.force {
        Force::Reason(r) => lines.push(Line::from(Span::styled(
            format!("FORCED past failing guardrails: \"{}\" (audited)", sanitize(r)),
            t.crit,
        ))),
        _ if !d.checked.passed() => lines.push(Line::from(Span::styled(
            "Refused unless forced: press F and give a reason (it is audited).",
            t.crit,
        ))),
        _ if d.checked.guards.iter().any(|g| g.state == GuardState::Unknown) => lines.push(Line::from(Span::styled(
            "? unknown: no data to judge by (not refused; [guards] require makes it refuse)",
            t.warn,
        ))),
        _ => {}
    }
    lines.push(Line::from(Span::styled(d.prompt(), t.accent)));
    let input = match &d.force {
        Force::Typing(reason) => format!("reason> {}█", sanitize(reason)),
        _ if plan.kind() == ActionKind::Failover => format!("> {}█", sanitize(&d.typed)),
        _ => String::new(),
    };
    if !input.is_empty() {
        lines.push(Line::from(Span::styled(input, t.base)));
    }
    if let Some(h) = &d.hint {
        lines.push(Line::from(Span::styled(sanitize(h).into_owned(), t.warn)));
    }

    let title = format!("Confirm: {}", sanitize(&plan.intent.to_string()));
    let height = (lines.len() as u16 + 2).min(area.height);
    let [row] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width)]).flex(Flex::Center).areas(row);
    frame.render_widget(Clear, popup);
    let border = if d.checked.passed() { t.accent } else { t.crit };
    frame.render_widget(Paragraph::new(lines).style(t.base).block(block(title, t).border_style(border)), popup);
}
