//! Prices across clouds through the binary: the cheapest capacity for the next
//! scale-out is compared in the configured currency, other currencies only
//! through a configured rate, and says so.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The demo estate with Alibaba billing in CNY at `cny_spot` an hour (and its
/// on-demand price 8× that), snapshotted with `config`.
fn snapshot(home: &Path, config: &str, cny_spot: f64) -> (Option<i32>, Value, String) {
    let estate = home.join("cny.toml");
    let text = include_str!("../../assets/demo-estate.toml")
        .replace(
            "prices = { on_demand_hourly = 0.089, spot_hourly = 0.0198 }",
            &format!("prices = {{ on_demand_hourly = {}, spot_hourly = {cny_spot} }}", cny_spot * 8.0),
        )
        .replace(
            "route = \"dingtalk:shop-aliyun\"\ncurrency = \"USD\"",
            "route = \"dingtalk:shop-aliyun\"\ncurrency = \"CNY\"",
        );
    assert!(text.contains("currency = \"CNY\""), "the estate file changed shape");
    std::fs::write(&estate, text).expect("estate");
    let cfg = home.join("opsdeck.toml");
    std::fs::write(&cfg, config).expect("config");
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["--config", cfg.to_str().expect("utf-8"), "--demo", estate.to_str().expect("utf-8")])
        .args(["snapshot", "--format", "json"])
        .env("XDG_CONFIG_HOME", home)
        .env("XDG_STATE_HOME", home.join("state"))
        .output()
        .expect("run opsdeck");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    // A snapshot says what stopped it on stdout, as a monitoring check does.
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), json, said)
}

#[test]
fn another_currency_is_compared_only_at_the_configured_rate() {
    let home = tempfile::tempdir().expect("tempdir");
    // No rate: the CNY offer is listed but not compared, however cheap.
    let (_, snap, err) = snapshot(home.path(), "", 0.0001);
    assert!(snap.is_object(), "{err}");
    assert_eq!(snap["prices_not_compared"], serde_json::json!(["CNY"]));
    assert_ne!(snap["cheapest"]["cloud"], "aliyun", "{:#}", snap["cheapest"]);
    assert_eq!(snap["cheapest"]["converted_from"], Value::Null);
    let aliyun = snap["spot_prices"].as_array().expect("prices").iter().find(|p| p["cloud"] == "aliyun").cloned();
    assert_eq!(aliyun.expect("the CNY price is still shown")["currency"], "CNY");

    // At 0.14 USD per CNY, 0.05 CNY is 0.007 USD: Alibaba, converted and saying so.
    let (_, snap, err) = snapshot(home.path(), "[prices]\ncurrency = \"USD\"\nrates = { CNY = 0.14 }\n", 0.05);
    assert!(snap.is_object(), "{err}");
    let c = &snap["cheapest"];
    assert_eq!(
        (c["cloud"].as_str(), c["converted_from"].as_str(), c["currency"].as_str()),
        (Some("aliyun"), Some("CNY"), Some("USD")),
        "{c:#}"
    );
    let hourly = c["hourly"].as_f64().expect("hourly");
    // The demo moves spot prices by up to 18% around the estate's figure.
    assert!((0.05 * 0.14 * 0.8..=0.05 * 0.14 * 1.2).contains(&hourly), "{hourly}");
    assert_eq!(snap["prices_not_compared"], serde_json::json!([]));

    // At 10 USD per CNY the same offer is the dearest: another cloud wins.
    let (_, snap, _) = snapshot(home.path(), "[prices]\nrates = { CNY = 10.0 }\n", 0.05);
    assert_ne!(snap["cheapest"]["cloud"], "aliyun", "{:#}", snap["cheapest"]);
}

#[test]
fn a_bad_rate_is_refused_at_its_key() {
    let home = tempfile::tempdir().expect("tempdir");
    for (config, words) in [
        ("[prices]\nrates = { CNY = -1.0 }\n", "the rate of CNY must be a positive number"),
        ("[prices]\ncurrency = \"dollars\"\n", "is not a currency code"),
        ("[prices]\nrates = { yuan = 0.14 }\n", "'yuan' is not a currency code"),
        ("[prices]\nrate = { CNY = 0.14 }\n", "unknown field `rate`"),
    ] {
        let (code, snap, err) = snapshot(home.path(), config, 0.05);
        assert_eq!(snap, Value::Null, "{config}: refused before anything is read");
        assert_ne!(code, Some(0), "{config}");
        assert!(err.contains(words) && err.contains("opsdeck.toml:"), "{config}: {err}");
    }
}
