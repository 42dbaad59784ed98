//! Cost: month-to-date and forecast per cloud and by service, and the spot /
//! preemptible price of the next instance each cloud would add.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::widgets::{block, fit};
use super::{View, format, sanitize};

pub fn draw(frame: &mut Frame, area: Rect, v: &View) {
    let spot_h = (v.fleet.spot_prices.len() as u16 + 3).min(area.height / 2);
    let [costs, spot] = Layout::vertical([Constraint::Min(4), Constraint::Length(spot_h)]).areas(area);
    draw_costs(frame, costs, v);
    draw_spot(frame, spot, v);
}

fn draw_costs(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let f = v.fleet;
    if f.costs.is_empty() {
        frame.render_widget(Paragraph::new("no cost data yet").style(t.muted).block(block("Cost", t)), area);
        return;
    }
    let cols = Layout::horizontal(vec![Constraint::Ratio(1, f.costs.len() as u32); f.costs.len()]).split(area);
    let service_rows = usize::from(area.height.saturating_sub(6));
    for (c, col) in f.costs.iter().zip(cols.iter()) {
        let name_w = usize::from(col.width.saturating_sub(14)).max(6);
        let mut rows = vec![
            Row::new(vec![
                Cell::from(Span::styled("Month to date", t.muted)),
                Cell::from(format::money(c.month_to_date, &c.currency)),
            ]),
            Row::new(vec![
                Cell::from(Span::styled("Forecast", t.muted)),
                Cell::from(Span::styled(format::money(c.forecast, &c.currency), t.accent)),
            ]),
            Row::new(vec![Cell::from(""), Cell::from("")]),
        ];
        let shown = c.by_service.len().min(service_rows);
        for (svc, amount) in c.by_service.iter().take(shown) {
            rows.push(Row::new(vec![
                Cell::from(fit(&sanitize(svc), name_w)),
                Cell::from(format::money(*amount, &c.currency)),
            ]));
        }
        if c.by_service.len() > shown {
            let rest: f64 = c.by_service.iter().skip(shown).map(|(_, a)| a).sum();
            rows.push(Row::new(vec![
                Cell::from(Span::styled(format!("+{} more", c.by_service.len() - shown), t.muted)),
                Cell::from(format::money(rest, &c.currency)),
            ]));
        }
        let widths = [Constraint::Min(6), Constraint::Length(10)];
        frame.render_widget(
            Table::new(rows, widths).style(t.base).block(block(format!("{} cost", c.cloud.label()), t)),
            *col,
        );
    }
}

fn draw_spot(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let cheapest = v.fleet.cheapest_spot().map(|p| p.cloud);
    let rows: Vec<Row> = v
        .fleet
        .spot_prices
        .iter()
        .map(|p| {
            let best = Some(p.cloud) == cheapest;
            Row::new(vec![
                Cell::from(p.cloud.label()),
                Cell::from(sanitize(&p.region).into_owned()),
                Cell::from(sanitize(&p.instance_type).into_owned()),
                Cell::from(format!("${:.4}", p.on_demand_hourly)),
                Cell::from(Span::styled(format!("${:.4}", p.spot_hourly), if best { t.ok } else { t.base })),
                Cell::from(format!("−{:.0}%", p.discount() * 100.0)),
                Cell::from(Span::styled(if best { "◀ cheapest" } else { "" }, t.ok)),
            ])
        })
        .collect();
    let header = Row::new(["Cloud", "Region", "Instance", "On-demand/h", "Spot/h", "Saves", ""]).style(t.muted);
    let widths = [
        Constraint::Length(7),
        Constraint::Length(12),
        Constraint::Length(16),
        Constraint::Length(11),
        Constraint::Length(8),
        Constraint::Length(5),
        Constraint::Min(0),
    ];
    frame.render_widget(
        Table::new(rows, widths).header(header).style(t.base).block(block("Spot / preemptible price now", t)),
        area,
    );
}
