//! `[[slos]]` through the binary: `opsdeck snapshot --format json` on the demo.
//! One poll holds one poll interval of history, which the JSON says; the SLO
//! figures are the demo's own traffic figures of that poll, and a drill that
//! raises the 5xx ratio makes the burn rates jump by as much.

use serde_json::Value;

const INTERVAL: u64 = 20;
const OBJECTIVE: f64 = 99.9;

/// The snapshot JSON of the demo with two SLOs (the shop, and Azure alone).
fn snapshot(drills: &[&str]) -> Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("opsdeck.toml");
    let toml = format!(
        "[[sources]]\nname = \"demo\"\nkind = \"demo\"\ninterval_secs = {INTERVAL}\n\
         [[slos]]\nname = \"checkout\"\nobjective = {OBJECTIVE}\nwindow = \"30d\"\n\
         [[slos]]\nname = \"azure-api\"\nobjective = 99.5\nwindow = \"12h\"\ncloud = \"azure\"\n"
    );
    std::fs::write(&path, toml).expect("config");
    let mut args = vec!["--config", path.to_str().expect("utf-8"), "snapshot", "--format", "json"];
    for d in drills {
        args.extend(["--drill", d]);
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(&args)
        .env("HOME", dir.path())
        .output()
        .expect("snapshot");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(matches!(out.status.code(), Some(0..=3)), "{:?} {}", out.status, String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{what}: {a} vs {b}");
}

/// Each cloud's requests and bad requests per second, from the regions the JSON lists.
fn traffic(snap: &Value) -> Vec<(String, f64, f64)> {
    let clouds = snap["clouds"].as_array().expect("clouds");
    clouds
        .iter()
        .map(|c| {
            let regions = c["regions"].as_array().expect("regions");
            let rps: f64 = regions.iter().map(|r| num(&r["rps"])).sum();
            let bad: f64 = regions.iter().map(|r| num(&r["rps"]) * num(&r["error_rate"])).sum();
            (c["cloud"].as_str().expect("slug").to_string(), rps, bad)
        })
        .collect()
}

/// The shop-wide SLO's figures are the demo's poll, one interval long; returns its 1h burn.
fn check(snap: &Value) -> f64 {
    let slos = snap["slos"].as_array().expect("slos");
    assert_eq!(slos.len(), 2, "{slos:?}");
    let shop = &slos[0];
    assert_eq!(shop["name"], "checkout");
    assert_eq!(shop["measured_by"], "traffic");
    assert_eq!(shop["overall"]["coverage"], format!("{INTERVAL}s of 30d"));
    let allowed = 1.0 - OBJECTIVE / 100.0;
    let secs = INTERVAL as f64;
    let clouds = traffic(snap);
    assert_eq!(clouds.len(), 3);
    let per_cloud = shop["clouds"].as_array().expect("clouds");
    for (slug, rps, bad) in &clouds {
        let f = per_cloud.iter().find(|f| f["cloud"] == slug.as_str()).unwrap_or_else(|| panic!("no {slug}"));
        close(num(&f["covered_secs"]), secs, "coverage");
        close(num(&f["total"]), rps * secs, "requests");
        close(num(&f["bad"]), bad * secs, "bad requests");
        close(num(&f["availability"]), 1.0 - bad / rps, "availability");
        close(num(&f["burn"]["1h"]), bad / rps / allowed, "burn");
    }
    // The shop: bad over total across clouds, each weighing by its traffic.
    let (rps, bad): (f64, f64) = clouds.iter().fold((0.0, 0.0), |(r, b), c| (r + c.1, b + c.2));
    let o = &shop["overall"];
    close(num(&o["availability"]), 1.0 - bad / rps, "shop availability");
    // Extrapolated: the 20 s seen, at their rate, over the 30 days.
    let budget = allowed * rps * 30.0 * 86_400.0;
    close(num(&o["budget_left"]), 1.0 - bad * secs / budget, "budget left");
    for span in ["5m", "30m", "1h", "6h", "3d"] {
        close(num(&o["burn"][span]), bad / rps / allowed, span);
    }
    // Twenty seconds of history cannot page, whatever they burn.
    assert_eq!(o["alert"], Value::Null);
    // A one-cloud SLO: that cloud alone, no breakdown; a 12h window judges no 3-day burn.
    let azure = &slos[1];
    assert_eq!(azure["cloud"], "azure");
    assert_eq!(azure["clouds"].as_array().map(Vec::len), Some(0));
    assert_eq!(azure["overall"]["coverage"], format!("{INTERVAL}s of 12h"));
    assert_eq!(azure["overall"]["burn"]["3d"], Value::Null);
    let (_, a_rps, a_bad) = clouds.iter().find(|c| c.0 == "azure").expect("azure");
    close(num(&azure["overall"]["burn"]["1h"]), a_bad / a_rps / 0.005, "azure burn");
    num(&o["burn"]["1h"])
}

#[test]
fn the_demo_snapshot_says_its_coverage_and_a_5xx_drill_makes_the_burn_jump() {
    let quiet = check(&snapshot(&[]));
    let drilled = check(&snapshot(&["db-primary-down aws"]));
    // A primary down fails checkout writes everywhere: several times the burn.
    assert!(drilled > 5.0 * quiet, "burn 1h {quiet} → {drilled}");
}

mod render {
    //! The Traffic pane's "SLOs" block and the Overview's SLO lines, on the demo
    //! with a planted history: 7 h of AWS at 900 req/s and Azure at 100 req/s,
    //! AWS's 5xx ratio up from 0.003 % to 0.1 % in the last hour.

    use std::sync::Arc;

    use chrono::Duration;
    use opsdeck::app::{App, Msg, Pane};
    use opsdeck::clock::reference_instant;
    use opsdeck::model::{CloudKind, Fleet};
    use opsdeck::providers::demo::{self, DrillBook, EstateSpec};
    use opsdeck::slo::{self, SloConfig};
    use opsdeck::theme::{ColorMode, Theme};
    use opsdeck::ui::{self, View};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    const MINUTES: i64 = 420;

    fn slo(name: &str, objective: f64, window: &str, cloud: Option<&str>) -> SloConfig {
        SloConfig {
            name: name.into(),
            objective,
            window: window.into(),
            cloud: cloud.map(Into::into),
            source: None,
            bad: None,
            total: None,
            ratio: None,
        }
    }

    fn aws_error(minute: i64) -> f64 {
        if minute > MINUTES - 60 { 0.001 } else { 0.00003 }
    }

    fn fleet(slos: &[SloConfig]) -> Fleet {
        let estate = Arc::new(EstateSpec::embedded().expect("estate"));
        let now = reference_instant();
        let mut fleet = demo::fleet_at(&estate, &DrillBook::default(), now, 120);
        let mut ledger = slo::ledger_for(slos);
        for k in 1..=MINUTES {
            let at = now - Duration::minutes(MINUTES - k);
            ledger.observe(CloudKind::Aws, at, Some((900.0, 900.0 * aws_error(k))), 60.0);
            ledger.observe(CloudKind::Azure, at, Some((100.0, 100.0 * 0.00001)), 60.0);
        }
        fleet.slos = slo::evaluate(slos, &ledger, now);
        fleet
    }

    fn slos() -> Vec<SloConfig> {
        vec![
            slo("checkout", 99.995, "30d", None),
            slo("search", 99.99, "7d", Some("aws")),
            slo("azure-api", 99.9, "7d", Some("azure")),
        ]
    }

    fn render(fleet: &Fleet, pane: Pane, width: u16, height: u16) -> (String, Vec<(String, ratatui::style::Style)>) {
        let estate = Arc::new(EstateSpec::embedded().expect("estate"));
        let theme = Theme::load("default", None, ColorMode::TrueColor).expect("theme");
        let mut app = App::new(Some(estate));
        app.update(Msg::Resize { width, height }, fleet);
        app.update(Msg::FleetChanged, fleet);
        app.pane = pane;
        let mut term = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        term.draw(|f| ui::draw(f, &View { app: &app, fleet, theme: &theme, now: reference_instant() })).expect("draw");
        let buf = term.backend().buffer().clone();
        // Each flag on screen and the style of its first cell.
        let mut flags = Vec::new();
        for y in 0..buf.area.height {
            let row: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol().to_string()).collect();
            for word in ["PAGE", "TICKET"] {
                if let Some(i) = row.find(&format!("{word} ")) {
                    let x = row[..i].chars().count() as u16;
                    flags.push((word.to_string(), buf[(x, y)].style()));
                }
            }
        }
        (term.backend().to_string(), flags)
    }

    #[test]
    fn the_figures_are_the_planted_history_and_alerts_wear_their_colours() {
        let slos = slos();
        let fleet = fleet(&slos);
        let theme = Theme::load("default", None, ColorMode::TrueColor).expect("theme");
        // Long hand: the shop over 7 h, bad over all requests.
        let minute = |k: i64| (900.0 * aws_error(k) + 100.0 * 0.00001) * 60.0;
        let bad: f64 = (1..=MINUTES).map(minute).sum();
        let total = 1000.0 * 60.0 * MINUTES as f64;
        let left = 1.0 - bad / (0.00005 * total * 30.0 * 86_400.0 / (MINUTES as f64 * 60.0));
        let hour = (MINUTES - 59..=MINUTES).map(minute).sum::<f64>() / (1000.0 * 3600.0) / 0.00005;
        let six = (MINUTES - 359..=MINUTES).map(minute).sum::<f64>() / (1000.0 * 6.0 * 3600.0) / 0.00005;
        let checkout = format!(
            "PAGE checkout 99.995% 30d: {:.4}% so far (7h held) · budget {:.0}% left · burn 1h {hour:.1}× 6h {six:.1}×",
            (1.0 - bad / total) * 100.0,
            left * 100.0
        );
        for (pane, w, h) in [(Pane::Traffic, 160, 48), (Pane::Overview, 160, 48), (Pane::Traffic, 80, 24)] {
            let (screen, flags) = render(&fleet, pane, w, h);
            insta::assert_snapshot!(format!("slo_{pane:?}_{w}x{h}").to_lowercase(), screen);
            if w == 160 {
                assert!(screen.contains(&checkout), "{checkout}\n{screen}");
                let want: Vec<(String, _)> =
                    vec![("PAGE".into(), theme.crit), ("PAGE".into(), theme.crit), ("TICKET".into(), theme.warn)];
                let got: Vec<_> = flags.iter().map(|(w, s)| (w.clone(), s.fg)).collect();
                let want: Vec<_> = want.iter().map(|(w, s)| (w.clone(), s.fg)).collect();
                if pane == Pane::Traffic {
                    // checkout, its AWS line, search (TICKET); Azure burns nothing.
                    assert_eq!(got, want, "{screen}");
                } else {
                    assert_eq!(got, vec![want[0].clone(), want[2].clone()], "{screen}");
                }
            }
        }
    }
}

mod prometheus {
    //! PromQL SLOs against the real Prometheus, its history backfilled with
    //! promtool: per seed, two instances' request and 5xx rates every minute for
    //! 8 hours, with gaps, and an error ratio. opsdeck's SLO source must say what
    //! the planted series say, read as Prometheus reads them: each instant sees each
    //! series' latest sample of the last 5 minutes, and stands for one step.

    use chrono::{DateTime, Utc};
    use opsdeck::model::SloStatus;
    use opsdeck::providers::Provider;
    use opsdeck::providers::prometheus::slo::SloSource;

    use crate::support::promstack;

    const SEEDS: u64 = 12;
    const LONG_SEEDS: u64 = 4;
    const MINUTES: i64 = 480;
    const OBJECTIVE: f64 = 99.9;

    /// splitmix64.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// The truth of one seed: per instance, per minute index, (requests/s, 5xx/s) if planted.
    struct Truth {
        instances: [Vec<Option<(f64, f64)>>; 2],
    }

    fn generate(seed: u64) -> Truth {
        let mut rng = Rng(seed * 7919 + 1);
        let mut instance = || {
            let mut out = Vec::new();
            let mut gap = 0;
            let spike_from = MINUTES - 30 - (rng.next() % 120) as i64;
            for m in 0..MINUTES {
                if gap > 0 {
                    gap -= 1;
                    out.push(None);
                    continue;
                }
                // Now and then a gap: short ones Prometheus' lookback bridges, long ones it cannot.
                if rng.next().is_multiple_of(40) {
                    gap = 1 + (rng.next() % 12) as i64;
                }
                let rps = 50.0 + rng.unit() * 950.0;
                let ratio = if m >= spike_from { 0.02 + rng.unit() * 0.03 } else { rng.unit() * 0.0005 };
                out.push(Some((rps, rps * ratio)));
            }
            out
        };
        Truth { instances: [instance(), instance()] }
    }

    /// How many minutes back an instant sees a sample: Prometheus 2 looks back
    /// over [t − 5m, t], 3 over (t − 5m, t].
    static LOOKBACK: std::sync::OnceLock<i64> = std::sync::OnceLock::new();

    /// A series' value at minute `m` as an instant query sees it: its latest sample
    /// within the 5-minute lookback.
    fn seen(series: &[Option<(f64, f64)>], m: i64) -> Option<(f64, f64)> {
        let back = *LOOKBACK.get().expect("lookback known");
        (0..=back).filter_map(|b| usize::try_from(m - b).ok()).find_map(|i| series.get(i).copied().flatten())
    }

    fn openmetrics(truths: &[Truth], start: i64) -> String {
        let mut out = String::new();
        let family = |out: &mut String, name: &str, pick: &dyn Fn(&(f64, f64)) -> f64| {
            out.push_str(&format!("# TYPE {name} gauge\n"));
            for (seed, t) in truths.iter().enumerate() {
                for (i, series) in t.instances.iter().enumerate() {
                    for (m, v) in series.iter().enumerate() {
                        if let Some(v) = v {
                            let at = start + 60 * m as i64;
                            out.push_str(&format!("{name}{{seed=\"{seed}\",instance=\"{i}\"}} {} {at}\n", pick(v)));
                        }
                    }
                }
            }
        };
        family(&mut out, "shop_requests_rate", &|v| v.0);
        family(&mut out, "shop_errors_rate", &|v| v.1);
        family(&mut out, "shop_error_ratio", &|v| v.1 / v.0);
        out.push_str("# EOF\n");
        out
    }

    fn config(url: &str) -> String {
        let mut text = format!(
            "[[sources]]\nname = \"prom\"\nkind = \"prometheus\"\n[sources.prometheus]\nurl = \"{url}\"\nbackfill_minutes = 0\n"
        );
        for seed in 0..SEEDS {
            text.push_str(&format!(
                "[[slos]]\nname = \"pair-{seed}\"\nobjective = {OBJECTIVE}\nwindow = \"12h\"\nsource = \"prom\"\n\
                 bad = 'sum(shop_errors_rate{{seed=\"{seed}\"}})'\ntotal = 'sum(shop_requests_rate{{seed=\"{seed}\"}})'\n\
                 [[slos]]\nname = \"ratio-{seed}\"\nobjective = {OBJECTIVE}\nwindow = \"12h\"\nsource = \"prom\"\n\
                 ratio = 'shop_error_ratio{{seed=\"{seed}\",instance=\"0\"}}'\n"
            ));
        }
        // A 30-day window: 240 s steps, the short burns from a one-minute query.
        for seed in 0..LONG_SEEDS {
            text.push_str(&format!(
                "[[slos]]\nname = \"long-{seed}\"\nobjective = {OBJECTIVE}\nwindow = \"30d\"\nsource = \"prom\"\n\
                 bad = 'sum(shop_errors_rate{{seed=\"{seed}\"}})'\ntotal = 'sum(shop_requests_rate{{seed=\"{seed}\"}})'\n"
            ));
        }
        text
    }

    /// (events, bad, covered seconds) of a 30-day window read every 240 s, the
    /// instants on multiples of 240 s up to `end` (unix seconds of the last minute).
    fn coarse_tally(t: &Truth, start: i64, end: i64, span: i64) -> (f64, f64, f64) {
        let last = end - end.rem_euclid(240);
        let (mut total, mut bad, mut covered) = (0.0, 0.0, 0.0);
        let mut at = last;
        while at > last - span && at >= start {
            let m = (at - start) / 60;
            let seen: Vec<(f64, f64)> = t.instances.iter().filter_map(|s| seen(s, m)).collect();
            if !seen.is_empty() {
                total += seen.iter().map(|v| v.0).sum::<f64>() * 240.0;
                bad += seen.iter().map(|v| v.1).sum::<f64>() * 240.0;
                covered += 240.0;
            }
            at -= 240;
        }
        (total, bad, covered)
    }

    fn close(a: Option<f64>, b: Option<f64>, what: &str) {
        match (a, b) {
            (Some(a), Some(b)) => assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{what}: {a} vs {b}"),
            (a, b) => assert_eq!(a, b, "{what}"),
        }
    }

    /// (events, bad, covered seconds) over the last `minutes` up to the last minute.
    fn hand_tally(t: &Truth, minutes: i64, ratio: bool) -> (f64, f64, f64) {
        let (mut total, mut bad, mut covered) = (0.0, 0.0, 0.0);
        for m in (MINUTES - minutes).max(0)..MINUTES {
            if ratio {
                if let Some((r, e)) = seen(&t.instances[0], m) {
                    total += 60.0;
                    bad += e / r * 60.0;
                    covered += 60.0;
                }
                continue;
            }
            let seen: Vec<(f64, f64)> = t.instances.iter().filter_map(|s| seen(s, m)).collect();
            if !seen.is_empty() {
                total += seen.iter().map(|v| v.0).sum::<f64>() * 60.0;
                bad += seen.iter().map(|v| v.1).sum::<f64>() * 60.0;
                covered += 60.0;
            }
        }
        (total, bad, covered)
    }

    fn check(s: &SloStatus, t: &Truth, ratio: bool) {
        let allowed = 1.0 - OBJECTIVE / 100.0;
        let (total, bad, covered) = hand_tally(t, MINUTES, ratio);
        let f = &s.overall;
        assert_eq!(s.measured_by, "prometheus prom");
        close(Some(f.covered_secs), Some(covered), &format!("{} coverage", s.name));
        close(f.total, Some(total), &format!("{} total", s.name));
        close(f.availability, Some(1.0 - bad / total), &format!("{} availability", s.name));
        let left = 1.0 - bad / (allowed * total * 43_200.0 / covered);
        close(f.budget_left, Some(left), &format!("{} budget", s.name));
        for (minutes, got) in [(5, f.burn.m5), (30, f.burn.m30), (60, f.burn.h1), (360, f.burn.h6)] {
            let (total, bad, _) = hand_tally(t, minutes, ratio);
            let want = (total > 0.0).then(|| bad / total / allowed);
            close(got, want, &format!("{} burn {minutes}m", s.name));
        }
        assert_eq!(f.burn.d3, None, "a 12h window judges no 3-day burn");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn promql_slos_equal_the_planted_series() {
        let truths: Vec<Truth> = (0..SEEDS).map(generate).collect();
        // The last planted minute is opsdeck's "now", a few minutes in the past.
        let now_s = Utc::now().timestamp();
        let end = now_s - now_s.rem_euclid(60) - 600;
        let start = end - 60 * (MINUTES - 1);
        let prom = promstack::prometheus_backfilled(&openmetrics(&truths, start));
        let info = promstack::get_json(&format!("{}/api/v1/status/buildinfo", prom.url())).await;
        let major = info["data"]["version"].as_str().and_then(|v| v.split('.').next()).expect("version");
        LOOKBACK.get_or_init(|| if major == "2" { 5 } else { 4 });
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.toml");
        std::fs::write(&path, config(&prom.url())).expect("config");
        let cfg = opsdeck::providers::registry::load(&path).expect("config parses");
        let source = SloSource::new(&cfg.slos, &cfg.sources).expect("source").expect("PromQL SLOs");
        let now: DateTime<Utc> = DateTime::from_timestamp(end, 0).expect("instant");
        let report = source.poll(now).await.expect("poll");
        assert_eq!(report.slos.len(), (2 * SEEDS + LONG_SEEDS) as usize);
        for (seed, t) in truths.iter().enumerate() {
            for (s, ratio) in [(&report.slos[2 * seed], false), (&report.slos[2 * seed + 1], true)] {
                assert!(s.note.is_none(), "{}: {:?}", s.name, s.note);
                check(s, t, ratio);
            }
        }
        for (seed, t) in truths.iter().enumerate().take(LONG_SEEDS as usize) {
            let s = &report.slos[2 * SEEDS as usize + seed];
            let pair = &report.slos[2 * seed];
            let f = &s.overall;
            let (total, bad, covered) = coarse_tally(t, start, end, 30 * 86_400);
            close(Some(f.covered_secs), Some(covered), &format!("{} coverage", s.name));
            close(f.availability, Some(1.0 - bad / total), &format!("{} availability", s.name));
            let left = 1.0 - bad / ((1.0 - OBJECTIVE / 100.0) * total * 30.0 * 86_400.0 / covered);
            close(f.budget_left, Some(left), &format!("{} budget", s.name));
            // The short burns come from the one-minute query: the 12h SLO's.
            for (got, want) in [
                (f.burn.m5, pair.overall.burn.m5),
                (f.burn.h1, pair.overall.burn.h1),
                (f.burn.h6, pair.overall.burn.h6),
            ] {
                close(got, want, &format!("{} short burn", s.name));
            }
            let (t3, b3, _) = coarse_tally(t, start, end, 3 * 86_400);
            close(f.burn.d3, Some(b3 / t3 / (1.0 - OBJECTIVE / 100.0)), &format!("{} burn 3d", s.name));
        }
        // The burn over the last hour is the spike's: some seed pages.
        assert!(report.slos.iter().any(|s| s.overall.alert.is_some()), "no alert in any seed");
    }
}
