//! Logs: opsdeck's own log records (tui-logger), e.g. a source that failed and why.

use ratatui::Frame;
use ratatui::layout::Rect;
use tui_logger::{TuiLoggerLevelOutput, TuiLoggerWidget};

use super::View;
use super::widgets::block;

pub fn draw(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let widget = TuiLoggerWidget::default()
        .block(block("Logs", t))
        .style(t.base)
        .style_error(t.crit)
        .style_warn(t.warn)
        .style_info(t.ok)
        .style_debug(t.muted)
        .style_trace(t.muted)
        .output_separator(' ')
        .output_timestamp(Some("%H:%M:%S".to_string()))
        .output_level(Some(TuiLoggerLevelOutput::Abbreviated))
        .output_target(true)
        .output_file(false)
        .output_line(false);
    frame.render_widget(widget, area);
}
