//! Cost: month-to-date and forecast per cloud and currency (every account of a
//! cloud summed) and by service, and the spot /
//! preemptible price of the next instance each cloud would add.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::widgets::{block, fit};
use super::{View, format, sanitize};
use crate::model::cost::{ServiceTotals, totals_by_currency};
use crate::model::{CloudKind, CostSnapshot, CurrencyTotal, Forecast, SourceId};

pub fn draw(frame: &mut Frame, area: Rect, v: &View) {
    let spot_h = (v.fleet.spot_prices.len() as u16 + 3).min(area.height / 2);
    let [costs, spot] = Layout::vertical([Constraint::Min(4), Constraint::Length(spot_h)]).areas(area);
    draw_costs(frame, costs, v);
    draw_spot(frame, spot, v);
}

/// One column of the Cost pane: a cloud's spend in one currency, every account summed.
struct CostColumn {
    title: String,
    total: CurrencyTotal,
    by_service: Vec<(String, f64)>,
}

/// Group the fleet's cost snapshots by cloud and currency: accounts of a cloud add
/// up; currencies stay apart.
fn columns(v: &View) -> Vec<CostColumn> {
    let f = v.fleet;
    let mut out = Vec::new();
    for cloud in CloudKind::ALL {
        let snaps: Vec<&(SourceId, CostSnapshot)> = f.costs.iter().filter(|(_, c)| c.cloud == cloud).collect();
        let currencies = totals_by_currency(snaps.iter().map(|(_, c)| c));
        for total in currencies {
            let mine: Vec<&&(SourceId, CostSnapshot)> =
                snaps.iter().filter(|(_, c)| c.currency == total.currency).collect();
            let mut services = ServiceTotals::default();
            for (_, c) in &mine {
                for (svc, amount) in &c.by_service {
                    services.add(svc.clone(), *amount);
                }
            }
            // With the demo beside real sources, say which money it made up.
            let demo = match mine.iter().filter(|(src, _)| f.is_demo_source(src)).count() {
                n if !f.mixes_demo() || n == 0 => "",
                n if n == mine.len() => "DEMO ",
                _ => "part DEMO ",
            };
            let mut title = format!("{demo}{} cost", cloud.label());
            if total.accounts > 1 {
                title.push_str(&format!(" ({} accounts)", total.accounts));
            }
            out.push(CostColumn { title, total, by_service: services.finish().0 });
        }
    }
    out
}

fn draw_costs(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let costs = columns(v);
    if costs.is_empty() {
        frame.render_widget(Paragraph::new("no cost data yet").style(t.muted).block(block("Cost", t)), area);
        return;
    }
    let cols = Layout::horizontal(vec![Constraint::Ratio(1, costs.len() as u32); costs.len()]).split(area);
    let service_rows = usize::from(area.height.saturating_sub(6));
    for (c, col) in costs.iter().zip(cols.iter()) {
        let name_w = usize::from(col.width.saturating_sub(14)).max(6);
        let currency = &c.total.currency;
        // Where the forecast came from: the cloud's own, or our run rate.
        let (forecast, note) = match c.total.forecast {
            Forecast::Cloud(f) => (format::money(f, currency), ""),
            Forecast::RunRate(f) => (format!("≈{}", format::money(f, currency)), "≈ run rate"),
            Forecast::TooEarly => ("too early".to_string(), ""),
        };
        let mut rows = vec![
            Row::new(vec![
                Cell::from(Span::styled("Month to date", t.muted)),
                Cell::from(format::money(c.total.month_to_date, currency)),
            ]),
            Row::new(vec![Cell::from(Span::styled("Forecast", t.muted)), Cell::from(Span::styled(forecast, t.accent))]),
            Row::new(vec![Cell::from(""), Cell::from(Span::styled(note, t.muted))]),
        ];
        let shown = c.by_service.len().min(service_rows);
        for (svc, amount) in c.by_service.iter().take(shown) {
            rows.push(Row::new(vec![
                Cell::from(fit(&sanitize(svc), name_w)),
                Cell::from(format::money(*amount, currency)),
            ]));
        }
        if c.by_service.len() > shown {
            let rest: f64 = c.by_service.iter().skip(shown).map(|(_, a)| a).sum();
            rows.push(Row::new(vec![
                Cell::from(Span::styled(format!("+{} more", c.by_service.len() - shown), t.muted)),
                Cell::from(format::money(rest, currency)),
            ]));
        }
        let widths = [Constraint::Min(6), Constraint::Length(10)];
        frame.render_widget(Table::new(rows, widths).style(t.base).block(block(c.title.clone(), t)), *col);
    }
}

fn draw_spot(frame: &mut Frame, area: Rect, v: &View) {
    let t = v.theme;
    let f = v.fleet;
    // Narrow terminals keep what decides a scale-out: where, what, and the prices.
    let wide = area.width >= 120;
    let cheapest = f.cheapest_capacity();
    let best_index = cheapest.as_ref().map(|(c, _)| c.index);
    let rows: Vec<Row> = f
        .spot_prices
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let best = Some(i) == best_index;
            let spot_style = if best { t.ok } else { t.base };
            let saves = p.discount().map_or_else(|| "–".into(), format::saving);
            let groups = p.groups.iter().map(|g| sanitize(g).into_owned()).collect::<Vec<_>>().join(",");
            let mut cells = vec![
                Cell::from(p.cloud.label()),
                Cell::from(sanitize(&p.region).into_owned()),
                Cell::from(sanitize(&p.instance_type).into_owned()),
            ];
            if wide {
                cells.push(Cell::from(sanitize(p.zone.as_deref().unwrap_or("–")).into_owned()));
                cells.push(Cell::from(groups));
            }
            cells.push(Cell::from(format::hourly(p.on_demand_hourly, &p.currency)));
            if wide {
                cells.push(Cell::from(Span::styled(sanitize(&p.on_demand_from).into_owned(), t.muted)));
            }
            cells.push(Cell::from(Span::styled(format::hourly(p.spot_hourly, &p.currency), spot_style)));
            cells.push(Cell::from(saves));
            cells.push(Cell::from(Span::styled(if best { "◀ cheapest" } else { "" }, t.ok)));
            Row::new(cells)
        })
        .collect();
    let (header, widths): (Vec<&str>, Vec<Constraint>) = if wide {
        (
            vec!["Cloud", "Region", "Instance", "Zone", "Groups", "On-demand/h", "from", "Spot/h", "Saves", ""],
            vec![
                Constraint::Length(7),
                Constraint::Length(12),
                Constraint::Length(16),
                Constraint::Length(13),
                Constraint::Length(12),
                Constraint::Length(11),
                Constraint::Length(13),
                Constraint::Length(11),
                Constraint::Length(5),
                Constraint::Min(0),
            ],
        )
    } else {
        (
            vec!["Cloud", "Region", "Instance", "On-demand/h", "Spot/h", "Saves", ""],
            vec![
                Constraint::Length(7),
                Constraint::Length(12),
                Constraint::Length(16),
                Constraint::Length(11),
                Constraint::Length(10),
                Constraint::Length(5),
                Constraint::Min(0),
            ],
        )
    };
    let title = format!("Spot / preemptible price now · {}", cheapest_words(f));
    frame.render_widget(
        Table::new(rows, widths).header(Row::new(header).style(t.muted)).style(t.base).block(block(title, t)),
        area,
    );
}

/// "next scale-out: Azure Standard_D2s_v5 spot $0.0251/h" with what was converted
/// and what could not be compared, or why there is no answer.
pub(super) fn cheapest_words(f: &crate::model::Fleet) -> String {
    let uncompared = f.uncompared_currencies();
    let mut out = match f.cheapest_capacity() {
        Some((c, p)) => format!(
            "next scale-out: {} {} {} {}/h{}",
            p.cloud.label(),
            sanitize(&p.instance_type),
            if c.spot { "spot" } else { "on-demand" },
            format::hourly(Some(c.hourly), &c.currency),
            if c.converted {
                format!(" (converted from {} at the configured rate)", sanitize(&p.currency))
            } else {
                String::new()
            },
        ),
        None if f.spot_prices.is_empty() => "no prices read".into(),
        None => "cheapest unknown".into(),
    };
    if !uncompared.is_empty() {
        let list = uncompared.iter().map(|c| sanitize(c).into_owned()).collect::<Vec<_>>().join(", ");
        out.push_str(&format!(" · {list} not compared: no rate configured"));
    }
    out
}
