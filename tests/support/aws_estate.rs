//! A seeded, healthy AWS estate for the failover tests, put into a real moto with
//! the AWS SDK: one or two regions of Auto Scaling groups (moto launches their
//! instances in service), and a Route 53 weighted record whose answers go to two
//! clouds — one or two AWS answers, each behind a health check, and one Azure
//! answer (with or without a check). The truth is what the generator decided.

use aws_config::SdkConfig;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, HealthCheckConfig, HealthCheckType, ResourceRecord, ResourceRecordSet, RrType,
};

/// splitmix64, as the other estate generators use.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x00A1_15EE_D50F_A11E)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// lo..=hi
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next() % (u64::from(hi - lo) + 1)) as u32
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

pub const AMI: &str = "ami-12c6146b";
pub const RECORD: &str = "shop.example.com";
const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

#[derive(Debug, Clone)]
pub struct GroupTruth {
    pub name: String,
    pub min: u32,
    pub max: u32,
    pub desired: u32,
}

#[derive(Debug, Clone)]
pub struct RegionTruth {
    pub region: String,
    pub groups: Vec<GroupTruth>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AnswerTruth {
    /// The set identifier.
    pub id: String,
    pub target: String,
    pub weight: u32,
    /// "aws" or "azure", as opsdeck should read it from the target.
    pub cloud: &'static str,
    pub health_check: bool,
}

#[derive(Debug, Clone)]
pub struct Estate {
    pub seed: u64,
    pub regions: Vec<RegionTruth>,
    pub answers: Vec<AnswerTruth>,
    pub ttl: i64,
}

impl Estate {
    pub fn generate(seed: u64) -> Estate {
        let mut r = Rng::new(seed);
        let regions: Vec<RegionTruth> = REGIONS[..r.range(1, 2) as usize]
            .iter()
            .map(|region| RegionTruth {
                region: region.to_string(),
                groups: (0..r.range(1, 3))
                    .map(|i| {
                        let min = r.range(1, 2);
                        let desired = min + r.range(0, 3);
                        GroupTruth { name: format!("web-{region}-{i}"), min, max: desired + r.range(2, 6), desired }
                    })
                    .collect(),
            })
            .collect();
        let mut answers: Vec<AnswerTruth> = regions
            .iter()
            .map(|rt| AnswerTruth {
                id: format!("aws-{}", rt.region),
                target: format!("shop-{}.elb.amazonaws.com", rt.region),
                weight: r.range(10, 200),
                cloud: "aws",
                health_check: true,
            })
            .collect();
        // Azure holds enough weight that a 10 % move can come out of it.
        answers.push(AnswerTruth {
            id: "azure-weu".into(),
            target: "shop-weu.trafficmanager.net".into(),
            weight: r.range(60, 250),
            cloud: "azure",
            health_check: r.chance(50),
        });
        Estate { seed, regions, answers, ttl: i64::from(r.range(30, 300)) }
    }

    /// Total weight of the record's answers in `cloud`.
    pub fn weight_of(&self, cloud: &str) -> u32 {
        self.answers.iter().filter(|a| a.cloud == cloud).map(|a| a.weight).sum()
    }

    /// Create the estate in moto; returns the hosted zone id.
    pub async fn seed(&self, moto_url: &str) -> String {
        for rt in &self.regions {
            let sdk = super::moto::sdk_for(moto_url, &rt.region).await;
            let asg = aws_sdk_autoscaling::Client::new(&sdk);
            asg.create_launch_configuration()
                .launch_configuration_name("web-lc")
                .image_id(AMI)
                .instance_type("t3.micro")
                .send()
                .await
                .expect("launch configuration");
            for g in &rt.groups {
                asg.create_auto_scaling_group()
                    .auto_scaling_group_name(&g.name)
                    .launch_configuration_name("web-lc")
                    .min_size(g.min as i32)
                    .max_size(g.max as i32)
                    .desired_capacity(g.desired as i32)
                    .availability_zones(format!("{}a", rt.region))
                    .availability_zones(format!("{}b", rt.region))
                    .send()
                    .await
                    .expect("group");
            }
        }
        let sdk: SdkConfig = super::moto::sdk_for(moto_url, "us-east-1").await;
        let r53 = aws_sdk_route53::Client::new(&sdk);
        let zone = r53
            .create_hosted_zone()
            .name("example.com")
            .caller_reference(format!("estate-{}", self.seed))
            .send()
            .await
            .expect("zone")
            .hosted_zone()
            .map(|z| z.id().to_string())
            .expect("zone id");
        let mut batch = ChangeBatch::builder();
        for a in &self.answers {
            let mut rs = ResourceRecordSet::builder()
                .name(RECORD)
                .r#type(RrType::Cname)
                .ttl(self.ttl)
                .set_identifier(&a.id)
                .weight(i64::from(a.weight))
                .resource_records(ResourceRecord::builder().value(&a.target).build().expect("rr"));
            if a.health_check {
                let check = r53
                    .create_health_check()
                    .caller_reference(format!("check-{}-{}", self.seed, a.id))
                    .health_check_config(
                        HealthCheckConfig::builder()
                            .r#type(HealthCheckType::Https)
                            .fully_qualified_domain_name(&a.target)
                            .port(443)
                            .resource_path("/healthz")
                            .build()
                            .expect("check config"),
                    )
                    .send()
                    .await
                    .expect("health check");
                rs = rs.health_check_id(check.health_check().map(|h| h.id().to_string()).expect("check id"));
            }
            batch = batch.changes(
                Change::builder()
                    .action(ChangeAction::Create)
                    .resource_record_set(rs.build().expect("rrs"))
                    .build()
                    .expect("change"),
            );
        }
        // A record of another name in the same zone, which no failover may touch.
        batch = batch.changes(
            Change::builder()
                .action(ChangeAction::Create)
                .resource_record_set(
                    ResourceRecordSet::builder()
                        .name("other.example.com")
                        .r#type(RrType::Cname)
                        .ttl(60)
                        .resource_records(ResourceRecord::builder().value("elsewhere.example.net").build().expect("rr"))
                        .build()
                        .expect("rrs"),
                )
                .build()
                .expect("change"),
        );
        r53.change_resource_record_sets()
            .hosted_zone_id(&zone)
            .change_batch(batch.build().expect("batch"))
            .send()
            .await
            .expect("records");
        zone
    }

    /// The `[[sources]]` entry for this estate in moto.
    pub fn config_toml(&self, moto_url: &str, zone: &str, name: &str) -> String {
        let regions: Vec<String> = self.regions.iter().map(|r| format!("{:?}", r.region)).collect();
        format!(
            "[[sources]]\nname = \"{name}\"\nkind = \"aws\"\ninterval_secs = 30\ntimeout_secs = 20\n\
             [sources.aws]\naccount = \"estate\"\nregions = [{}]\nendpoint_url = \"{moto_url}\"\n\
             [[sources.aws.records]]\nzone_id = \"{zone}\"\nname = \"{RECORD}\"\n",
            regions.join(", ")
        )
    }
}

/// The weighted record's answers by set identifier, read with boto3 (not opsdeck's
/// code, nor the Rust SDK).
pub async fn boto3_weights(moto_url: &str, zone: &str) -> std::collections::BTreeMap<String, u32> {
    const SNIPPET: &str = r#"
import boto3, json, sys
c = boto3.client("route53", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="testing", aws_secret_access_key="testing")
out = {}
for page in c.get_paginator("list_resource_record_sets").paginate(HostedZoneId=sys.argv[2]):
    for r in page["ResourceRecordSets"]:
        if r["Name"].rstrip(".") == sys.argv[3] and "SetIdentifier" in r:
            out[r["SetIdentifier"]] = r.get("Weight")
print(json.dumps(out))
"#;
    let venv = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let python = if venv.exists() { venv } else { std::path::PathBuf::from("python3") };
    let mut cmd = std::process::Command::new(python);
    cmd.args(["-c", SNIPPET, moto_url, zone, RECORD]);
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.expect("join").expect("python with boto3");
    assert!(out.status.success(), "boto3: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("weights as JSON")
}
