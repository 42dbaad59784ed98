//! AWS behind the front: a real moto server, killed and started again on its port.

use std::time::Duration;

use super::http::{HttpTarget, Upstream, sdk_words};
use super::matrix::{ALL_FAULTS, run_all};
use crate::support::faulty::{Faulty, Mode};
use crate::support::moto::{Moto, sdk_for};
use opsdeck::providers::aws::AwsConfig;
use opsdeck::providers::aws::{self, SdkSource};

pub struct Up(Option<Moto>, u16);
impl Upstream for Up {
    fn kill(&mut self) {
        self.0 = None; // dropping it kills the process
    }
    fn revive(&mut self) {
        self.0 = Some(Moto::start_on(self.1));
    }
}

pub async fn target() -> HttpTarget {
    let moto = Moto::start();
    let front = Faulty::start(moto.port);
    // Derived from the DescribeAutoScalingGroups answer (Query protocol): a group
    // whose DesiredCapacity is a word and which lacks its name.
    front.set_wrong(
        "<DescribeAutoScalingGroupsResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">\
         <DescribeAutoScalingGroupsResult><AutoScalingGroups><member><DesiredCapacity>lots</DesiredCapacity>\
         </member></AutoScalingGroups></DescribeAutoScalingGroupsResult></DescribeAutoScalingGroupsResponse>",
        "text/xml",
    );
    let sdk = sdk_for(&front.url(), "us-east-1").await;
    let cfg = AwsConfig::new("test", vec!["us-east-1".into()]);
    let provider = aws::providers("aws-test", &cfg, Duration::from_secs(10), SdkSource::Given(Box::new(sdk)))
        .into_iter()
        .next()
        .expect("a region source");
    let port = moto.port;
    HttpTarget {
        kind: "aws",
        provider,
        front,
        timeout: Duration::from_secs(4),
        throttle: Mode::ThrottlingException,
        upstream: Box::new(Up(Some(moto), port)),
        expect: sdk_words,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_source_survives_every_fault() {
    let mut t = target().await;
    run_all(&mut t, &ALL_FAULTS).await;
}
