//! A fourth cloud, as small as one can be, built only in tests: it proves the
//! steps ARCHITECTURE.md gives for adding a cloud. Everything it needs is in this
//! folder, plus `pub mod stub;` in providers/mod.rs, its entry in the registry
//! (here `Registry::standard().with(stub::ENTRY)`) and a `CloudKind` variant.

pub mod config;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use self::config::StubConfig;
use super::registry::{self, Built, Entry};
use super::{Provider, ProviderError};
use crate::config::{KindSpec, TableSpec, read_table};
use crate::model::{CloudKind, ScalingGroup, SourceId, SourceReport, ZoneCapacity};

/// `kind = "stub"`, `[sources.stub]`.
pub const ENTRY: Entry = Entry {
    kind: KindSpec {
        name: "stub",
        aliases: &[],
        table: Some(TableSpec { key: "stub", read: read_table::<StubConfig> }),
    },
    build: |s, _| {
        let cfg = registry::table::<StubConfig>(s, "stub")?;
        Ok(Built::providers(vec![Arc::new(StubSource { id: SourceId::new(&s.name), cfg: cfg.clone() })]))
    },
    credential_line: |s| format!("{}: stub: no credentials needed", s.name),
};

/// Reports one full group per configured region.
pub struct StubSource {
    id: SourceId,
    cfg: StubConfig,
}

#[async_trait]
impl Provider for StubSource {
    fn id(&self) -> &SourceId {
        &self.id
    }
    fn kind(&self) -> &'static str {
        "stub"
    }
    async fn poll(&self, _now: DateTime<Utc>) -> Result<SourceReport, ProviderError> {
        let n = self.cfg.instances;
        let groups = self
            .cfg
            .regions
            .iter()
            .map(|region| ScalingGroup {
                source: self.id.clone(),
                cloud: CloudKind::Stub,
                region: region.clone(),
                name: format!("web-{region}"),
                min: 1,
                max: n.max(1) * 2,
                desired: n,
                zones: vec![ZoneCapacity { zone: format!("{region}a"), in_service: n, healthy: n }],
                spot_share: 0.0,
                rps_per_instance: None,
                inactive: false,
                instance_type: None,
            })
            .collect::<Vec<_>>();
        Ok(SourceReport { groups: groups.into(), ..SourceReport::default() })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::model::Freshness;
    use crate::providers::registry::Registry;

    const GOOD: &str =
        "[[sources]]\nname = \"lab\"\nkind = \"stub\"\n[sources.stub]\nregions = [\"lab-1\", \"lab-2\"]\n";

    #[test]
    fn an_unregistered_kind_is_an_unknown_kind() {
        let err = registry::parse(Path::new("c.toml"), GOOD).expect_err("not registered");
        assert_eq!(err.line, 3, "{err}");
        assert!(err.message.starts_with("unknown variant `stub`, expected one of `demo`"), "{err}");
    }

    #[test]
    fn a_registered_kind_is_read_checked_and_named_in_the_generic_errors() {
        let kinds = Registry::standard().with(ENTRY);
        let c = kinds.parse(Path::new("c.toml"), GOOD).expect("registered");
        let table = c.sources[0].table::<StubConfig>().expect("typed table");
        assert_eq!((table.regions.len(), table.instances), (2, 2), "the default instances");
        assert!(!c.is_demo());
        let bad = |text: &str| kinds.parse(Path::new("c.toml"), text).expect_err("refused").to_string();
        assert_eq!(
            bad("[[sources]]\nname = \"lab\"\nkind = \"stub\"\n[sources.stub]\nregions = []\n"),
            "c.toml:5:1: regions needs at least one region"
        );
        assert_eq!(
            bad("[[sources]]\nname = \"lab\"\nkind = \"stub\"\n[sources.stub]\nregions = [\"r\"]\ncolour = 1\n"),
            "c.toml:6:1: unknown field `colour`, expected `regions` or `instances`"
        );
        assert_eq!(
            bad("[[sources]]\nname = \"lab\"\nkind = \"stub\"\n"),
            "c.toml:3:1: source 'lab' of kind \"stub\" needs a [sources.stub] table"
        );
        assert_eq!(
            bad("[[sources]]\nname = \"d\"\nkind = \"demo\"\n[sources.stub]\nregions = [\"r\"]\n"),
            "c.toml: [sources.stub] is only for kind = \"stub\""
        );
        let unknown = bad("[[sources]]\nname = \"lab\"\nkind = \"stub\"\nzone = 1\n");
        assert!(
            unknown.starts_with("c.toml:4:1: unknown field `zone`") && unknown.ends_with("`azure`, `stub`"),
            "{unknown}"
        );
        assert_eq!(kinds.credential_lines(&c), ["lab: stub: no credentials needed"]);
    }

    #[tokio::test]
    async fn its_report_reaches_the_fleet_through_the_collector() {
        let kinds = Registry::standard().with(ENTRY);
        let c = kinds.parse(Path::new("c.toml"), GOOD).expect("registered");
        let built = crate::startup::build_with(&kinds, &c, None).expect("built");
        let now = crate::clock::reference_instant();
        let fleet = crate::collector::collect_once(&built.sources, now, built.demo).await;
        let status = fleet.source(&SourceId::new("lab")).expect("the source is in the fleet");
        assert_eq!((status.kind.as_str(), &status.freshness), ("stub", &Freshness::Fresh));
        let groups: Vec<(CloudKind, &str, u32)> =
            fleet.groups.iter().map(|g| (g.cloud, g.name.as_str(), g.desired)).collect();
        assert_eq!(groups, [(CloudKind::Stub, "web-lab-1", 2), (CloudKind::Stub, "web-lab-2", 2)]);
    }
}
