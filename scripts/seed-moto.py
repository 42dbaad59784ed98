#!/usr/bin/env python3
"""Seed a moto server with a small shop: an Auto Scaling group, firing alarms, a
CPU datapoint, weighted Route 53 records with a health check, and Cost Explorer
results. Prints the hosted zone id. Usage: seed-moto.py PORT (boto3 from .venv)."""
import sys, json, datetime, urllib.request, boto3
url = f"http://127.0.0.1:{sys.argv[1]}"
c = lambda s: boto3.client(s, endpoint_url=url, region_name="us-east-1")
asg, cw, r53 = c("autoscaling"), c("cloudwatch"), c("route53")
asg.create_launch_configuration(LaunchConfigurationName="web-lc", ImageId="ami-12c6146b", InstanceType="t3.micro")
asg.create_auto_scaling_group(AutoScalingGroupName="web-asg", LaunchConfigurationName="web-lc", MinSize=2, MaxSize=10,
    DesiredCapacity=4, AvailabilityZones=["us-east-1a", "us-east-1b", "us-east-1c"],
    Tags=[{"Key": "Env", "Value": "Prod", "ResourceId": "web-asg", "ResourceType": "auto-scaling-group", "PropagateAtLaunch": True}])
for name, tags in [("P1-web-cpu-high", []), ("checkout-5xx", [{"Key": "Severity", "Value": "P0"}]), ("queue-depth", [])]:
    cw.put_metric_alarm(AlarmName=name, Namespace="AWS/EC2", MetricName="CPUUtilization", Statistic="Average", Period=60,
        EvaluationPeriods=1, Threshold=80, ComparisonOperator="GreaterThanThreshold", Tags=tags,
        Dimensions=[{"Name": "AutoScalingGroupName", "Value": "web-asg"}], AlarmActions=["arn:aws:sns:us-east-1:123456789012:oncall"])
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="Threshold Crossed: 1 datapoint > 80")
now = datetime.datetime.now(datetime.timezone.utc)
cw.put_metric_data(Namespace="AWS/EC2", MetricData=[{"MetricName": "CPUUtilization", "Value": 57.0, "Unit": "Percent",
    "Timestamp": now - datetime.timedelta(seconds=90), "Dimensions": [{"Name": "AutoScalingGroupName", "Value": "web-asg"}]}])
zone = r53.create_hosted_zone(Name="example.com", CallerReference="seed")["HostedZone"]["Id"]
hc = r53.create_health_check(CallerReference="seed", HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": "shop-use1.elb.amazonaws.com", "Port": 443, "ResourcePath": "/healthz"})["HealthCheck"]["Id"]
rec = lambda sid, w, v, **kw: {"Action": "CREATE", "ResourceRecordSet": {"Name": "shop.example.com", "Type": "CNAME", "TTL": 60,
    "SetIdentifier": sid, "Weight": w, "ResourceRecords": [{"Value": v}], **kw}}
r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
    rec("aws-use1", 50, "shop-use1.elb.amazonaws.com", HealthCheckId=hc),
    rec("azure-weu", 30, "shop-weu.trafficmanager.net"),
    rec("aliyun-hz", 20, "shop-hz.gtm.aliyuncs.com")]})
body = json.dumps({"results": [{"ResultsByTime": [{"TimePeriod": {"Start": "2026-11-01", "End": "2026-11-30"}, "Total": {}, "Estimated": False,
    "Groups": [{"Keys": [k], "Metrics": {"UnblendedCost": {"Amount": a, "Unit": "USD"}}} for k, a in
               [("Amazon Elastic Compute Cloud - Compute", "6120.40"), ("Amazon Relational Database Service", "4210.10"), ("Amazon Route 53", "54.00")]]}]}]}).encode()
urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/static/ce/cost-and-usage-results", data=body, headers={"Content-Type": "application/json"}))
print(zone)
