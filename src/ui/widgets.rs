//! Small drawing helpers shared by panes.

use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Block, BorderType};

use crate::model::Health;
use crate::theme::Theme;

pub fn block<'a>(title: impl Into<String>, t: &Theme) -> Block<'a> {
    Block::bordered()
        .border_type(BorderType::Plain)
        .border_style(t.border)
        .title(Span::styled(format!(" {} ", title.into()), t.accent))
}

pub fn health_style(h: Health, t: &Theme) -> Style {
    match h {
        Health::Idle => t.muted,
        Health::Ok => t.ok,
        Health::Degraded => t.warn,
        Health::Down => t.crit,
        Health::Unknown => t.unknown,
    }
}

/// A status glyph that reads without colour too.
pub fn health_glyph(h: Health) -> &'static str {
    match h {
        Health::Idle => "○",
        Health::Ok => "●",
        Health::Degraded => "▲",
        Health::Down => "✖",
        Health::Unknown => "?",
    }
}

/// Style for a value against a target: fine, near (≥ 50 %), or over.
pub fn target_style(ratio: f64, t: &Theme) -> Style {
    if ratio > 1.0 {
        t.crit
    } else if ratio >= 0.5 {
        t.warn
    } else {
        t.ok
    }
}

/// Truncate to `width` display columns with an ellipsis.
pub fn fit(s: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut out = String::new();
    let mut w = 0;
    let total: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= width {
        return s.to_string();
    }
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw + 1 > width {
            break;
        }
        out.push(c);
        w += cw;
    }
    if width > 0 {
        out.push('…');
    }
    out
}
