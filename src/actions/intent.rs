//! What an operator asked for, in words (palette, runbook): parsed into an
//! [`Intent`](crate::model::Intent) before anything is computed or checked.

use crate::model::{CloudKind, Intent};

/// Parse the words after the command name, as typed in the palette or on the CLI.
pub fn parse(command: &str, args: &[&str]) -> Result<Intent, String> {
    let cloud = |s: &str| CloudKind::from_slug(s).ok_or_else(|| format!("unknown cloud '{s}' (aws, azure, aliyun)"));
    match command {
        "failover" => {
            // failover <from> -> <to> [N%]   (the arrow is optional)
            let words: Vec<&str> = args.iter().copied().filter(|w| *w != "->").collect();
            match words.as_slice() {
                [from, to] => Ok(Intent::Shift { from: cloud(from)?, to: cloud(to)?, percent: None }),
                [from, to, pct] => {
                    let p: f64 =
                        pct.trim_end_matches('%').parse().map_err(|_| format!("'{pct}' is not a percentage"))?;
                    if !(p > 0.0 && p <= 100.0) {
                        return Err("the share to move must be between 0 and 100 %".into());
                    }
                    Ok(Intent::Shift { from: cloud(from)?, to: cloud(to)?, percent: Some(p) })
                }
                _ => Err("usage: failover <from> -> <to> [N%]".into()),
            }
            .and_then(|i| match &i {
                Intent::Shift { from, to, .. } if from == to => Err("failover needs two different clouds".into()),
                _ => Ok(i),
            })
        }
        "drain" => match args {
            [c] => Ok(Intent::Drain { cloud: cloud(c)? }),
            _ => Err("usage: drain <cloud>".into()),
        },
        "scale" => match args {
            [target, n] => {
                let (c, group) = target.split_once('/').ok_or("usage: scale <cloud>/<group> <desired>")?;
                let desired: u32 = n.parse().map_err(|_| format!("'{n}' is not a whole number of instances"))?;
                Ok(Intent::Scale { cloud: cloud(c)?, group: group.to_string(), desired })
            }
            _ => Err("usage: scale <cloud>/<group> <desired>".into()),
        },
        "ack" => {
            // ack <alert-id> [<minutes>m|<hours>h] <comment...>
            let Some((id, rest)) = args.split_first() else {
                return Err("usage: ack <alert-id> [2h] <comment>".into());
            };
            let (minutes, words) = match rest.split_first() {
                Some((d, words)) if parse_duration(d).is_some() => (parse_duration(d), words),
                _ => (None, rest),
            };
            let comment = words.join(" ").trim_matches('"').to_string();
            if comment.trim().is_empty() {
                return Err("an acknowledgement needs a comment: ack <alert-id> [2h] <comment>".into());
            }
            Ok(Intent::Ack { alert_id: id.to_string(), comment, minutes })
        }
        "unack" => match args {
            [id] => Ok(Intent::Unack { alert_id: id.to_string() }),
            _ => Err("usage: unack <alert-id>".into()),
        },
        other => Err(format!("'{other}' is not an action")),
    }
}

/// "90m", "2h" → minutes.
fn parse_duration(s: &str) -> Option<u32> {
    let (n, unit) = s.split_at(s.len().checked_sub(1)?);
    let n: u32 = n.parse().ok()?;
    match unit {
        "m" if n > 0 => Some(n),
        "h" if n > 0 => n.checked_mul(60),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_action() {
        assert_eq!(
            parse("failover", &["aws", "->", "aliyun"]),
            Ok(Intent::Shift { from: CloudKind::Aws, to: CloudKind::Aliyun, percent: None })
        );
        assert_eq!(
            parse("failover", &["aws", "azure", "20%"]),
            Ok(Intent::Shift { from: CloudKind::Aws, to: CloudKind::Azure, percent: Some(20.0) })
        );
        assert_eq!(parse("drain", &["azure"]), Ok(Intent::Drain { cloud: CloudKind::Azure }));
        assert_eq!(
            parse("scale", &["aws/web-asg", "6"]),
            Ok(Intent::Scale { cloud: CloudKind::Aws, group: "web-asg".into(), desired: 6 })
        );
        assert_eq!(
            parse("ack", &["demo:x", "2h", "\"looking", "into", "it\""]),
            Ok(Intent::Ack { alert_id: "demo:x".into(), comment: "looking into it".into(), minutes: Some(120) })
        );
    }

    #[test]
    fn refuses_nonsense_with_reasons() {
        assert!(parse("failover", &["aws", "aws"]).is_err());
        assert!(parse("failover", &["aws", "gcp"]).expect_err("cloud").contains("unknown cloud"));
        assert!(parse("failover", &["aws", "azure", "150%"]).is_err());
        assert!(parse("scale", &["aws/web-asg", "-1"]).is_err());
        assert!(parse("ack", &["id"]).expect_err("comment").contains("comment"));
        assert_eq!(parse("unack", &["am:1f2e"]), Ok(Intent::Unack { alert_id: "am:1f2e".into() }));
        assert!(parse("unack", &[]).expect_err("id").contains("usage"));
    }
}
