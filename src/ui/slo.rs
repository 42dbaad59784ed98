//! SLO lines, shared by the Overview (one line per SLO) and the Traffic pane's
//! "SLOs" block (each SLO, then each cloud's share of a shop-wide one):
//! "checkout 99.995% 30d: 99.9971% so far (4h12m held) · budget 41% left · burn 1h 2.1× 6h 0.8×",
//! led by a burn-rate PAGE in the theme's critical colour, a TICKET in its warning colour.

use ratatui::text::Span;

use super::sanitize;
use crate::model::{BurnAlert, SloFigures, SloStatus};
use crate::slo::duration_text;
use crate::theme::Theme;

/// "99.9971%": availability needs the digits an objective like 99.995 % has.
fn availability(a: Option<f64>) -> String {
    a.map_or_else(|| "unknown".into(), |a| format!("{:.4}%", a * 100.0))
}

fn budget(b: Option<f64>) -> String {
    match b {
        None => "budget unknown".into(),
        Some(b) if b < 0.0 => format!("budget overspent {:.0}%", -b * 100.0),
        Some(b) => format!("budget {:.0}% left", b * 100.0),
    }
}

fn burn(b: Option<f64>) -> String {
    b.map_or_else(|| "–".into(), |b| format!("{b:.1}×"))
}

/// The words of one scope of an SLO; `head` leads them (the SLO, or a cloud).
pub fn text(head: &str, f: &SloFigures) -> String {
    format!(
        "{head}: {} so far ({} held) · {} · burn 1h {} 6h {}",
        availability(f.availability),
        duration_text(f.covered_secs),
        budget(f.budget_left),
        burn(f.burn.h1),
        burn(f.burn.h6),
    )
}

/// "checkout 99.995% 30d" (and the cloud of a one-cloud SLO).
pub fn head(s: &SloStatus) -> String {
    let cloud = s.cloud.map_or(String::new(), |c| format!(" {}", c.label()));
    format!("{}{cloud} {}% {}", sanitize(&s.name), s.objective_pct, s.window)
}

/// One scope as spans: PAGE / TICKET first in the alert's colour (so a narrow
/// terminal cuts the figures, not the flag), then the words.
pub fn spans(head: &str, f: &SloFigures, theme: &Theme) -> Vec<Span<'static>> {
    let style = if f.availability.is_none() { theme.muted } else { theme.base };
    let mut out = Vec::new();
    match f.alert {
        Some(a @ BurnAlert::Page) => out.push(Span::styled(format!("{} ", a.label()), theme.crit)),
        Some(a @ BurnAlert::Ticket) => out.push(Span::styled(format!("{} ", a.label()), theme.warn)),
        None => {}
    }
    out.push(Span::styled(text(head, f), style));
    out
}
