//! The `:` command palette: parsing and completion (k9s style). Pure functions.

use super::{AlertSort, Pane};
use crate::actions::{Intent, intent};
use crate::model::{AlertState, CloudKind, Fleet};
use crate::providers::demo::{DRILL_KINDS, EstateSpec};

/// Every palette command with a one-line description (shown in Help).
pub const COMMANDS: &[(&str, &str)] = &[
    ("overview", "go to the Overview pane"),
    ("health", "go to the Health pane"),
    ("traffic", "go to the Traffic pane"),
    ("cost", "go to the Cost pane"),
    ("alerts", "go to the Alerts pane"),
    ("logs", "go to the Logs pane"),
    ("audit", "go to the Audit pane (every action attempted)"),
    ("help", "go to this Help pane"),
    (
        "drill",
        "chaos drill on the demo: az-outage <cloud>/<zone> | db-primary-down <cloud> | link-latency <a>-<b> <ms> | clear",
    ),
    ("failover", "shift DNS traffic: failover <from> -> <to> [N%] (all of it without N)"),
    ("drain", "take a cloud out of DNS: drain <cloud>"),
    ("scale", "set desired capacity: scale <cloud>/<group> <n>"),
    ("ack", "acknowledge an alert in its source: ack <id> [2h] <comment>"),
    ("unack", "withdraw an acknowledgement: unack <id>"),
    ("undo", "plan the inverse of the last failover or scale"),
    ("sort", "sort alerts: severity | age | cloud"),
    ("filter", "filter the current list: filter <text>"),
    ("refresh", "poll every source now"),
    ("quit", "leave opsdeck"),
];

#[derive(Debug, Clone, PartialEq)]
pub enum PaletteCommand {
    GoTo(Pane),
    Drill(Vec<String>),
    Sort(AlertSort),
    Filter(String),
    Refresh,
    Quit,
    Action(Intent),
    Undo,
}

pub fn parse(input: &str) -> Result<PaletteCommand, String> {
    let words: Vec<&str> = input.split_whitespace().collect();
    let Some((&head, rest)) = words.split_first() else {
        return Err("type a command; Tab completes".into());
    };
    let head = head.to_ascii_lowercase();
    if let Some(pane) = Pane::ALL.into_iter().find(|p| p.command() == head) {
        return if rest.is_empty() {
            Ok(PaletteCommand::GoTo(pane))
        } else {
            Err(format!("{head} takes no arguments"))
        };
    }
    match head.as_str() {
        "q" | "quit" | "q!" => Ok(PaletteCommand::Quit),
        "drill" => Ok(PaletteCommand::Drill(rest.iter().map(|s| s.to_string()).collect())),
        "sort" => match rest {
            ["severity" | "sev"] => Ok(PaletteCommand::Sort(AlertSort::Severity)),
            ["age"] => Ok(PaletteCommand::Sort(AlertSort::Age)),
            ["cloud"] => Ok(PaletteCommand::Sort(AlertSort::Cloud)),
            _ => Err("usage: sort severity|age|cloud".into()),
        },
        "filter" => Ok(PaletteCommand::Filter(rest.join(" "))),
        "refresh" => Ok(PaletteCommand::Refresh),
        "undo" => Ok(PaletteCommand::Undo),
        "failover" | "drain" | "scale" | "ack" | "unack" => intent::parse(&head, rest).map(PaletteCommand::Action),
        other => Err(format!("unknown command '{other}' (Tab lists commands)")),
    }
}

/// Whole-line candidates for what has been typed so far.
pub fn complete(input: &str, estate: Option<&EstateSpec>, fleet: &Fleet) -> Vec<String> {
    let ends_with_space = input.ends_with(' ');
    let mut words: Vec<&str> = input.split_whitespace().collect();
    if ends_with_space || words.is_empty() {
        words.push("");
    }
    let (partial, done) = words.split_last().map(|(p, d)| (*p, d.to_vec())).unwrap_or(("", vec![]));
    let options: Vec<String> = match done.as_slice() {
        [] => COMMANDS.iter().map(|(c, _)| c.to_string()).collect(),
        ["drill"] => DRILL_KINDS.iter().map(|s| s.to_string()).collect(),
        ["drill", "az-outage"] => estate
            .map(|e| {
                e.clouds.iter().flat_map(|c| c.zones.iter().map(move |z| format!("{}/{z}", c.kind.slug()))).collect()
            })
            .unwrap_or_default(),
        ["drill", "db-primary-down"] => {
            estate.map(|e| e.clouds.iter().map(|c| c.kind.slug().to_string()).collect()).unwrap_or_default()
        }
        ["drill", "link-latency"] => estate
            .map(|e| {
                let mut pairs = Vec::new();
                for (i, a) in e.clouds.iter().enumerate() {
                    for b in &e.clouds[i + 1..] {
                        pairs.push(format!("{}-{}", a.kind.slug(), b.kind.slug()));
                    }
                }
                pairs
            })
            .unwrap_or_default(),
        ["drill", "link-latency", _] => ["100", "250", "500", "1000"].iter().map(|s| s.to_string()).collect(),
        ["sort"] => ["severity", "age", "cloud"].iter().map(|s| s.to_string()).collect(),
        ["failover"] | ["drain"] => clouds(fleet),
        ["failover", _] => vec!["->".to_string()],
        ["failover", from, "->"] => clouds(fleet).into_iter().filter(|c| c != from).collect(),
        ["failover", _, "->", _] => ["10%", "25%", "50%"].iter().map(|s| s.to_string()).collect(),
        ["scale"] => fleet.groups.iter().map(|g| format!("{}/{}", g.cloud.slug(), g.name)).collect(),
        ["ack"] => fleet.alerts.iter().filter(|a| a.state.is_open()).take(50).map(|a| a.id.clone()).collect(),
        ["unack"] => fleet
            .alerts
            .iter()
            .filter(|a| matches!(a.state, AlertState::Acknowledged { .. }))
            .take(50)
            .map(|a| a.id.clone())
            .collect(),
        _ => vec![],
    };
    let prefix = if done.is_empty() { String::new() } else { format!("{} ", done.join(" ")) };
    options
        .into_iter()
        .filter(|o| o.starts_with(partial))
        .map(|o| {
            // A complete command word gets a trailing space so the next Tab moves on.
            let takes_more = matches!(
                o.as_str(),
                "drill"
                    | "sort"
                    | "filter"
                    | "az-outage"
                    | "db-primary-down"
                    | "link-latency"
                    | "failover"
                    | "drain"
                    | "scale"
                    | "ack"
                    | "unack"
                    | "->"
            ) || matches!(
                done.as_slice(),
                ["drill", "link-latency"] | ["failover"] | ["scale"] | ["ack"] | ["unack"]
            );
            format!("{prefix}{o}{}", if takes_more { " " } else { "" })
        })
        .collect()
}

fn clouds(fleet: &Fleet) -> Vec<String> {
    fleet.clouds().into_iter().map(CloudKind::slug).map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn estate() -> EstateSpec {
        EstateSpec::embedded().expect("estate")
    }

    #[test]
    fn completes_commands_then_drills_then_targets() {
        let e = estate();
        assert_eq!(complete("dri", Some(&e), &Fleet::default()), vec!["drill "]);
        assert_eq!(complete("drill a", Some(&e), &Fleet::default()), vec!["drill az-outage "]);
        let zones = complete("drill az-outage aws/", Some(&e), &Fleet::default());
        assert_eq!(
            zones,
            vec!["drill az-outage aws/us-west-1a", "drill az-outage aws/us-west-1b", "drill az-outage aws/us-west-1c"]
        );
        assert_eq!(
            complete("drill link-latency aws-al", Some(&e), &Fleet::default()),
            vec!["drill link-latency aws-aliyun "]
        );
        assert!(complete("", Some(&e), &Fleet::default()).len() == COMMANDS.len());
        assert!(complete("zzz", Some(&e), &Fleet::default()).is_empty());
    }

    #[test]
    fn completes_actions_from_the_fleet() {
        let e = estate();
        let fleet = crate::providers::demo::fleet_at(&e, &Default::default(), crate::clock::reference_instant(), 1);
        assert_eq!(
            complete("failover a", Some(&e), &fleet),
            vec!["failover aws ", "failover azure ", "failover aliyun "]
        );
        assert_eq!(complete("failover aws ", Some(&e), &fleet), vec!["failover aws -> "]);
        assert_eq!(
            complete("failover aws -> ", Some(&e), &fleet),
            vec!["failover aws -> azure", "failover aws -> aliyun"]
        );
        assert_eq!(complete("scale aws", Some(&e), &fleet), vec!["scale aws/web-asg "]);
        assert!(complete("ack ", Some(&e), &fleet).iter().all(|c| c.starts_with("ack demo:")));
    }

    #[test]
    fn parses_commands() {
        assert_eq!(parse("alerts"), Ok(PaletteCommand::GoTo(Pane::Alerts)));
        assert_eq!(parse(" q "), Ok(PaletteCommand::Quit));
        assert_eq!(parse("sort age"), Ok(PaletteCommand::Sort(AlertSort::Age)));
        assert_eq!(parse("drill clear"), Ok(PaletteCommand::Drill(vec!["clear".into()])));
        assert!(parse("sort sideways").is_err());
        assert!(parse("launch missiles").expect_err("unknown").contains("unknown command"));
        assert!(parse("").is_err());
        assert_eq!(
            parse("failover aws -> azure 25%"),
            Ok(PaletteCommand::Action(Intent::Shift {
                from: CloudKind::Aws,
                to: CloudKind::Azure,
                percent: Some(25.0)
            }))
        );
        assert_eq!(parse("undo"), Ok(PaletteCommand::Undo));
    }
}
