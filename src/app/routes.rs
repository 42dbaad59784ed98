//! The Routes view's rows and the selected alert's paging line, pure: where
//! each source's alerts are sent (severity × cloud → channels), and how many
//! open alerts page through each route now.

use crate::model::{Alert, AlertState, Fleet, NotificationRoute};

/// One row of the Routes view: an index into `Fleet::routes`, and the alerts
/// paging through that route now (firing: an acknowledged, inhibited or
/// resolved alert pages nobody).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteRow {
    pub route: usize,
    pub firing: usize,
}

/// The routes laid out as the architecture's table is: by severity (most severe
/// first, routes for any severity after), then cloud (any cloud last); routes
/// that tie keep their source's order (an Alertmanager tree's depth-first order,
/// in which the first matching route wins).
pub fn route_rows(fleet: &Fleet) -> Vec<RouteRow> {
    let mut rows: Vec<RouteRow> = fleet
        .routes
        .iter()
        .enumerate()
        .map(|(i, r)| RouteRow {
            route: i,
            // The source's own count when it routes by labels; else the
            // firing alerts that name this route or its receiver.
            firing: match r.firing_now {
                Some(n) => n as usize,
                None => fleet.alerts.iter().filter(|a| a.state == AlertState::Firing && r.pages(a)).count(),
            },
        })
        .collect();
    rows.sort_by_key(|row| {
        let r = &fleet.routes[row.route];
        (r.severity.is_none(), r.severity, r.cloud.is_none(), r.cloud.map(|c| c.slug()))
    });
    rows
}

/// A route's channels in words; a receiver with none says it drops what it gets.
pub fn channel_words(r: &NotificationRoute) -> String {
    if r.channels.is_empty() {
        "blackhole: no channels, nobody is paged".to_string()
    } else {
        r.channels.iter().map(|c| c.label()).collect::<Vec<_>>().join(", ")
    }
}

/// Where `alert` paged: each receiver of its source's routes that it pages
/// through, with the channels behind it. Unknown when its source reported no
/// routes at all (never read, or a system opsdeck reads no routes from).
pub fn paging_words(alert: &Alert, fleet: &Fleet) -> String {
    let of_source: Vec<&NotificationRoute> = fleet.routes.iter().filter(|r| r.source == alert.source).collect();
    if of_source.is_empty() {
        return format!("paged: unknown (no routes read from {})", alert.source);
    }
    let mut seen: Vec<(&str, String)> = Vec::new();
    for r in of_source.into_iter().filter(|r| r.pages(alert)) {
        let words = channel_words(r);
        if !seen.iter().any(|(recv, w)| *recv == r.receiver && *w == words) {
            seen.push((&r.receiver, words));
        }
    }
    if seen.is_empty() {
        return "paged: no route of its source names it".to_string();
    }
    let parts: Vec<String> = seen.iter().map(|(recv, w)| format!("{recv} → {w}")).collect();
    format!("paged: {}", parts.join(" · "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Channel, CloudKind, Severity, SourceId};

    fn route(
        src: &str,
        cloud: Option<CloudKind>,
        sev: Option<Severity>,
        recv: &str,
        ch: &[(&str, &str)],
    ) -> NotificationRoute {
        NotificationRoute {
            source: SourceId::new(src),
            cloud,
            severity: sev,
            receiver: recv.into(),
            rule: String::new(),
            alerts: vec![],
            channels: ch.iter().map(|(k, t)| Channel::masked(k, t)).collect(),
            firing_now: None,
        }
    }

    fn alert(src: &str, id: &str, route: &str, state: AlertState) -> Alert {
        Alert {
            id: id.into(),
            source: SourceId::new(src),
            cloud: None,
            severity: Severity::P1,
            title: String::new(),
            resource: String::new(),
            started_at: chrono::DateTime::UNIX_EPOCH,
            state,
            route: route.into(),
            labels: Default::default(),
        }
    }

    #[test]
    fn rows_go_by_severity_then_cloud_with_the_alerts_paging_now_counted() {
        let routes = vec![
            route("am", None, None, "default", &[]),
            route("am", Some(CloudKind::Azure), Some(Severity::P0), "pager", &[("email", "a@example.com")]),
            route("am", None, Some(Severity::P0), "pager", &[("email", "a@example.com")]),
            route("am", Some(CloudKind::Aws), Some(Severity::P2), "chat", &[("slack", "#ops-room")]),
        ];
        let alerts = vec![
            alert("am", "1", "pager", AlertState::Firing),
            alert("am", "2", "pager, chat", AlertState::Inhibited { by: "x".into() }),
            alert("am", "3", "chat", AlertState::Resolved),
            alert("other", "4", "chat", AlertState::Firing),
            alert("am", "5", "chat", AlertState::Firing),
        ];
        let fleet = Fleet { routes, alerts: alerts.into(), ..Fleet::default() };
        let rows = route_rows(&fleet);
        assert_eq!(
            rows,
            [
                RouteRow { route: 1, firing: 1 },
                RouteRow { route: 2, firing: 1 },
                RouteRow { route: 3, firing: 1 },
                RouteRow { route: 0, firing: 0 },
            ]
        );
        assert_eq!(
            paging_words(&fleet.alerts[1], &fleet),
            "paged: pager → email:a…@example.com · chat → slack:#op…oom"
        );
        assert_eq!(paging_words(&fleet.alerts[3], &fleet), "paged: unknown (no routes read from other)");
        let nowhere = alert("am", "5", "", AlertState::Firing);
        assert_eq!(paging_words(&nowhere, &fleet), "paged: no route of its source names it");
        let dropped = alert("am", "6", "default", AlertState::Firing);
        assert_eq!(paging_words(&dropped, &fleet), "paged: default → blackhole: no channels, nobody is paged");
    }
}
