//! What the config check says, byte for byte, for one mistake of each kind: in the
//! common source fields, in each provider's own table, and in the top-level tables.
//! The provider tables are parsed by their own folders through the registry; this
//! pins that the words and the file:line:column a user sees did not move with them.

use std::path::Path;

/// The error `opsdeck` would print for this config text, with the file name only.
fn said(dir: &Path, text: &str) -> String {
    let p = dir.join("c.toml");
    std::fs::write(&p, text).expect("write");
    match opsdeck::startup::load_config(Some(&p)) {
        Ok((c, _)) => format!("accepted: {} source(s), demo {}", c.sources.len(), c.is_demo()),
        Err(e) => e.to_string().replace(&format!("{}/", dir.display()), ""),
    }
}

const CASES: &[(&str, &str)] = &[
    ("top: unknown key", "colour = 1\n"),
    ("top: sources not an array", "sources = 3\n"),
    ("top: theme wrong type", "theme = 1\n"),
    ("top: read_only wrong type", "read_only = \"yes\"\n"),
    ("guards: unknown guard", "[guards]\nrequire = [\"nope\"]\n"),
    ("guards: unknown key", "[guards]\nrequires = []\n"),
    ("arbiters: neither url nor tcp", "[[arbiters]]\nname = \"w\"\n"),
    ("arbiters: unknown key", "[[arbiters]]\nname = \"w\"\nhost = \"x\"\n"),
    ("arbiters: twice", "[[arbiters]]\nname = \"w\"\ntcp = \"a:1\"\n[[arbiters]]\nname = \"w\"\ntcp = \"b:1\"\n"),
    ("links: bad cloud", "[[links]]\nname = \"l\"\nbetween = [\"aws\", \"gcp\"]\ntarget_ms = 40\ntcp = \"a:1\"\n"),
    (
        "links: one cloud twice",
        "[[links]]\nname = \"l\"\nbetween = [\"aws\", \"aws\"]\ntarget_ms = 40\ntcp = \"a:1\"\n",
    ),
    ("links: no measurement", "[[links]]\nname = \"l\"\nbetween = [\"aws\", \"azure\"]\ntarget_ms = 40\n"),
    (
        "links: twice",
        "[[links]]\nname = \"l\"\nbetween = [\"aws\", \"azure\"]\ntarget_ms = 40\ntcp = \"a:1\"\n[[links]]\nname = \"l\"\nbetween = [\"aws\", \"azure\"]\ntarget_ms = 40\ntcp = \"b:1\"\n",
    ),
    ("links: target zero", "[[links]]\nname = \"l\"\nbetween = [\"aws\", \"azure\"]\ntarget_ms = 0\ntcp = \"a:1\"\n"),
    ("links: query alone", "[[links]]\nname = \"l\"\nbetween = [\"aws\", \"azure\"]\ntarget_ms = 40\nquery = \"up\"\n"),
    ("links: unknown key", "[[links]]\nname = \"l\"\nbetween = [\"aws\", \"azure\"]\ntarget_ms = 40\nhost = \"x\"\n"),
    (
        "links: fine",
        "[[links]]\nname = \"l\"\nbetween = [\"azure\", \"aliyun\"]\ntarget_ms = 40\nprometheus = \"http://p:9090\"\nquery = \"probe_duration_seconds\"\n",
    ),
    ("source: unknown key", "[[sources]]\nname = \"a\"\nkind = \"demo\"\ncolour = 1\n"),
    ("source: missing name", "[[sources]]\nkind = \"demo\"\n"),
    ("source: missing kind", "[[sources]]\nname = \"a\"\n"),
    ("source: unknown kind", "[[sources]]\nname = \"a\"\nkind = \"gcp\"\n"),
    ("source: kind not a string", "[[sources]]\nname = \"a\"\nkind = 3\n"),
    (
        "source: alibaba alias",
        "[[sources]]\nname = \"a\"\nkind = \"alibaba\"\n[sources.aliyun]\nregion = \"cn-hangzhou\"\n",
    ),
    ("source: empty name", "[[sources]]\nname = \" \"\nkind = \"demo\"\n"),
    ("source: twice", "[[sources]]\nname = \"a\"\nkind = \"demo\"\n[[sources]]\nname = \"a\"\nkind = \"demo\"\n"),
    ("source: interval type", "[[sources]]\nname = \"a\"\nkind = \"demo\"\ninterval_secs = \"fast\"\n"),
    ("source: interval zero", "[[sources]]\nname = \"a\"\nkind = \"demo\"\ninterval_secs = 0\n"),
    ("source: timeout big", "[[sources]]\nname = \"a\"\nkind = \"demo\"\ntimeout_secs = 601\n"),
    ("source: rps zero", "[[sources]]\nname = \"a\"\nkind = \"demo\"\nrps_per_instance = 0\n"),
    ("source: rps wrong type", "[[sources]]\nname = \"a\"\nkind = \"demo\"\nrps_per_instance = \"x\"\n"),
    (
        "source: estate on aws",
        "[[sources]]\nname = \"a\"\nkind = \"aws\"\nestate = \"/e.toml\"\n[sources.aws]\naccount = \"x\"\nregions = [\"r\"]\n",
    ),
    ("source: table not a table", "[[sources]]\nname = \"a\"\nkind = \"aws\"\naws = 3\n"),
    ("demo: fine", "[[sources]]\nname = \"a\"\nkind = \"demo\"\nestate = \"/e.toml\"\n"),
    ("aws: no table", "[[sources]]\nname = \"a\"\nkind = \"aws\"\n"),
    (
        "aws: table on demo",
        "[[sources]]\nname = \"a\"\nkind = \"demo\"\n[sources.aws]\naccount = \"x\"\nregions = [\"r\"]\n",
    ),
    ("aws: missing account", "[[sources]]\nname = \"a\"\nkind = \"aws\"\n[sources.aws]\nregions = [\"r\"]\n"),
    (
        "aws: unknown key",
        "[[sources]]\nname = \"a\"\nkind = \"aws\"\n[sources.aws]\naccount = \"x\"\nregions = [\"r\"]\nsecret = \"s\"\n",
    ),
    ("aws: no regions", "[[sources]]\nname = \"a\"\nkind = \"aws\"\n[sources.aws]\naccount = \"x\"\nregions = []\n"),
    (
        "aws: asg tag",
        "[[sources]]\nname = \"a\"\nkind = \"aws\"\n[sources.aws]\naccount = \"x\"\nregions = [\"r\"]\nasg_tag = \"x\"\n",
    ),
    (
        "aws: cost interval",
        "[[sources]]\nname = \"a\"\nkind = \"aws\"\n[sources.aws]\naccount = \"x\"\nregions = [\"r\"]\ncost_interval_secs = 5\n",
    ),
    (
        "aws: record cloud",
        "[[sources]]\nname = \"a\"\nkind = \"aws\"\n[sources.aws]\naccount = \"x\"\nregions = [\"r\"]\n[[sources.aws.records]]\nzone_id = \"z\"\nname = \"n\"\nclouds = { a = \"gcp\" }\n",
    ),
    ("aws: fine", "[[sources]]\nname = \"a\"\nkind = \"aws\"\n[sources.aws]\naccount = \"x\"\nregions = [\"r\"]\n"),
    ("azure: no table", "[[sources]]\nname = \"a\"\nkind = \"azure\"\n"),
    (
        "azure: table on aws",
        "[[sources]]\nname = \"a\"\nkind = \"aws\"\n[sources.aws]\naccount = \"x\"\nregions = [\"r\"]\n[sources.azure]\nsubscriptions = [\"s\"]\n",
    ),
    ("azure: no subscriptions", "[[sources]]\nname = \"a\"\nkind = \"azure\"\n[sources.azure]\nsubscriptions = []\n"),
    (
        "azure: unknown key",
        "[[sources]]\nname = \"a\"\nkind = \"azure\"\n[sources.azure]\nsubscriptions = [\"s\"]\nclient_secret = \"x\"\n",
    ),
    (
        "azure: bad resource",
        "[[sources]]\nname = \"a\"\nkind = \"azure\"\n[sources.azure]\nsubscriptions = [\"s\"]\nscale_sets = [\"vmss\"]\n",
    ),
    (
        "azure: http authority",
        "[[sources]]\nname = \"a\"\nkind = \"azure\"\n[sources.azure]\nsubscriptions = [\"s\"]\nauthority_host = \"http://x\"\n",
    ),
    (
        "azure: tenant alone",
        "[[sources]]\nname = \"a\"\nkind = \"azure\"\n[sources.azure]\nsubscriptions = [\"s\"]\ntenant_id = \"t\"\n",
    ),
    (
        "azure: audience",
        "[[sources]]\nname = \"a\"\nkind = \"azure\"\n[sources.azure]\nsubscriptions = [\"s\"]\ntoken_audience = \"x\"\n",
    ),
    (
        "azure: cost interval",
        "[[sources]]\nname = \"a\"\nkind = \"azure\"\n[sources.azure]\nsubscriptions = [\"s\"]\ncost_interval_secs = 1\n",
    ),
    (
        "azure: severity",
        "[[sources]]\nname = \"a\"\nkind = \"azure\"\n[sources.azure]\nsubscriptions = [\"s\"]\nseverity_map = { Sev0 = \"P9\" }\n",
    ),
    ("azure: fine", "[[sources]]\nname = \"a\"\nkind = \"azure\"\n[sources.azure]\nsubscriptions = [\"s\"]\n"),
    ("aliyun: no table", "[[sources]]\nname = \"a\"\nkind = \"aliyun\"\n"),
    (
        "aliyun: table on azure",
        "[[sources]]\nname = \"a\"\nkind = \"azure\"\n[sources.azure]\nsubscriptions = [\"s\"]\n[sources.aliyun]\nregion = \"cn-hangzhou\"\n",
    ),
    ("aliyun: region", "[[sources]]\nname = \"a\"\nkind = \"aliyun\"\n[sources.aliyun]\nregion = \"Hangzhou 1\"\n"),
    (
        "aliyun: unknown key",
        "[[sources]]\nname = \"a\"\nkind = \"aliyun\"\n[sources.aliyun]\nregion = \"cn-hangzhou\"\naccess_key = \"k\"\n",
    ),
    (
        "aliyun: rpo",
        "[[sources]]\nname = \"a\"\nkind = \"aliyun\"\n[sources.aliyun]\nregion = \"cn-hangzhou\"\nrpo_secs = 0\n",
    ),
    ("aliyun: fine", "[[sources]]\nname = \"a\"\nkind = \"aliyun\"\n[sources.aliyun]\nregion = \"cn-hangzhou\"\n"),
    ("prometheus: no table", "[[sources]]\nname = \"a\"\nkind = \"prometheus\"\n"),
    (
        "prometheus: table on demo",
        "[[sources]]\nname = \"a\"\nkind = \"demo\"\n[sources.prometheus]\nurl = \"http://p\"\n",
    ),
    (
        "prometheus: missing url",
        "[[sources]]\nname = \"a\"\nkind = \"prometheus\"\n[sources.prometheus]\ncloud_label = \"c\"\n",
    ),
    (
        "prometheus: scheme",
        "[[sources]]\nname = \"a\"\nkind = \"prometheus\"\n[sources.prometheus]\nurl = \"ftp://p\"\n",
    ),
    (
        "prometheus: not a url",
        "[[sources]]\nname = \"a\"\nkind = \"prometheus\"\n[sources.prometheus]\nurl = \"not a url\"\n",
    ),
    (
        "prometheus: entry",
        "[[sources]]\nname = \"a\"\nkind = \"prometheus\"\n[sources.prometheus]\nurl = \"http://p\"\n[sources.prometheus.auth]\nbearer_token_entry = \"t\"\n",
    ),
    (
        "prometheus: basic half",
        "[[sources]]\nname = \"a\"\nkind = \"prometheus\"\n[sources.prometheus]\nurl = \"http://p\"\n[sources.prometheus.auth]\nbasic_auth_user = \"u\"\n",
    ),
    (
        "prometheus: both auths",
        "[[sources]]\nname = \"a\"\nkind = \"prometheus\"\n[sources.prometheus]\nurl = \"http://p\"\n[sources.prometheus.auth]\nbearer_token_entry = \"a/b\"\nbasic_auth_user = \"u\"\nbasic_auth_password_entry = \"a/c\"\n",
    ),
    (
        "prometheus: empty query",
        "[[sources]]\nname = \"a\"\nkind = \"prometheus\"\n[sources.prometheus]\nurl = \"http://p\"\n[sources.prometheus.queries]\ncpu = \"\"\n",
    ),
    (
        "prometheus: target",
        "[[sources]]\nname = \"a\"\nkind = \"prometheus\"\n[sources.prometheus]\nurl = \"http://p\"\n[[sources.prometheus.replication]]\nkind = \"database\"\nname = \"db\"\nfrom = \"aws\"\nto = \"azure\"\nquery = \"q\"\ntarget = 0\n",
    ),
    (
        "prometheus: query timeout",
        "[[sources]]\nname = \"a\"\nkind = \"prometheus\"\n[sources.prometheus]\nurl = \"http://p\"\nquery_timeout_secs = 9.0\n",
    ),
    (
        "prometheus: backfill",
        "[[sources]]\nname = \"a\"\nkind = \"prometheus\"\n[sources.prometheus]\nurl = \"http://p\"\nbackfill_minutes = 5000\n",
    ),
    (
        "prometheus: unknown key",
        "[[sources]]\nname = \"a\"\nkind = \"prometheus\"\n[sources.prometheus]\nurl = \"http://p\"\npassword = \"hunter2\"\n",
    ),
    (
        "prometheus: fine",
        "[[sources]]\nname = \"a\"\nkind = \"prometheus\"\n[sources.prometheus]\nurl = \"http://p\"\n",
    ),
    ("alertmanager: no table", "[[sources]]\nname = \"a\"\nkind = \"alertmanager\"\n"),
    (
        "alertmanager: table on prometheus",
        "[[sources]]\nname = \"a\"\nkind = \"prometheus\"\n[sources.prometheus]\nurl = \"http://p\"\n[sources.alertmanager]\nurls = [\"http://a\"]\n",
    ),
    (
        "alertmanager: no urls",
        "[[sources]]\nname = \"a\"\nkind = \"alertmanager\"\n[sources.alertmanager]\nurls = []\n",
    ),
    (
        "alertmanager: severity",
        "[[sources]]\nname = \"a\"\nkind = \"alertmanager\"\n[sources.alertmanager]\nurls = [\"http://a\"]\nseverity_map = { critical = \"P9\" }\n",
    ),
    (
        "alertmanager: ack minutes",
        "[[sources]]\nname = \"a\"\nkind = \"alertmanager\"\n[sources.alertmanager]\nurls = [\"http://a\"]\nack_minutes = 0\n",
    ),
    (
        "alertmanager: fine",
        "[[sources]]\nname = \"a\"\nkind = \"alertmanager\"\n[sources.alertmanager]\nurls = [\"http://a\"]\n",
    ),
    (
        "second source is the bad one",
        "[[sources]]\nname = \"a\"\nkind = \"demo\"\n[[sources]]\nname = \"b\"\nkind = \"aws\"\n[sources.aws]\naccount = \"x\"\nregions = []\n",
    ),
];

#[test]
fn each_mistake_is_reported_with_the_same_words_and_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report: String = CASES.iter().map(|(what, text)| format!("{what}\n  {}\n", said(dir.path(), text))).collect();
    insta::assert_snapshot!(report);
}
