//! Help: generated from the keymap and the palette's command table, so it can
//! never disagree with what the keys and commands do.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::View;
use super::widgets::block;
use crate::app::keymap::{Action, BINDINGS};
use crate::app::palette::COMMANDS;
use crate::theme::Theme;

/// The help text, one entry per line.
fn lines(t: &Theme) -> Vec<Line<'static>> {
    let mut out = vec![Line::from(Span::styled("Keys", t.accent))];
    // The pane digits collapse into one line; everything else is one line per binding.
    let panes: Vec<String> = BINDINGS
        .iter()
        .filter(|b| matches!(b.action, Action::GoTo(_)))
        .map(|b| {
            format!(
                "{} {}",
                b.keys.iter().map(|k| k.label()).collect::<Vec<_>>().join("/"),
                b.help.trim_end_matches(" pane")
            )
        })
        .collect();
    out.push(Line::from(vec![
        Span::styled(format!("  {:<18}", "digits, ?"), t.selection),
        Span::styled(format!(" {}", panes.join(" · ")), t.base),
    ]));
    for b in BINDINGS.iter().filter(|b| !matches!(b.action, Action::GoTo(_))) {
        let keys = b.keys.iter().map(|k| k.label()).collect::<Vec<_>>().join(" / ");
        out.push(Line::from(vec![
            Span::styled(format!("  {keys:<18}"), t.selection),
            Span::styled(format!(" {:<32}", b.help), t.base),
            Span::styled(format!(" ({})", b.scope.label()), t.muted),
        ]));
    }
    out.push(Line::from(""));
    out.push(Line::from(Span::styled("Commands (type : then a command; Tab completes)", t.accent)));
    for (cmd, help) in COMMANDS {
        out.push(Line::from(vec![
            Span::styled(format!("  :{cmd:<17}"), t.selection),
            Span::styled(format!(" {help}"), t.base),
        ]));
    }
    out
}

/// How many lines the help has, for scrolling.
pub fn line_count() -> usize {
    // Title, the pane-digits line, one per other binding, a blank, title, one per command.
    let bindings = BINDINGS.iter().filter(|b| !matches!(b.action, Action::GoTo(_))).count();
    2 + bindings + 2 + COMMANDS.len()
}

pub fn draw(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let p = Paragraph::new(lines(t)).style(t.base).scroll((v.app.help_scroll, 0)).block(block("Help (↑↓ scroll)", t));
    frame.render_widget(p, area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_count_matches_the_lines() {
        let t = Theme::fallback(crate::theme::ColorMode::None);
        assert_eq!(line_count(), lines(&t).len());
    }
}
