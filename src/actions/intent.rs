//! What an operator asked for, made an [`Intent`](crate::model::Intent) before
//! anything is computed or checked: the palette's words through [`parse`], the
//! command line's typed arguments through the same checks (`cloud`, `failover`,
//! `scale_target`, `ack_comment`, ...), so both refuse alike.

use crate::model::{CloudKind, Intent};

/// Parse the words after the command name, as typed in the palette. The command
/// line reads its typed arguments with the same checks, through the functions below.
pub fn parse(command: &str, args: &[&str]) -> Result<Intent, String> {
    match command {
        "failover" => {
            // failover <from> -> <to> [N%]   (the arrow is optional)
            let words: Vec<&str> = args.iter().copied().filter(|w| *w != "->").collect();
            match words.as_slice() {
                [from, to] => failover(from, to, None),
                [from, to, pct] => {
                    let p: f64 =
                        pct.trim_end_matches('%').parse().map_err(|_| format!("'{pct}' is not a percentage"))?;
                    failover(from, to, Some(p))
                }
                _ => Err("usage: failover <from> -> <to> [N%]".into()),
            }
        }
        "drain" => match args {
            [c] => Ok(Intent::Drain { cloud: cloud(c)? }),
            _ => Err("usage: drain <cloud>".into()),
        },
        "scale" => match args {
            [target, n] => {
                let (c, group) = scale_target(target)?;
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
            let (minutes, words) = leading_duration(rest);
            Ok(Intent::Ack { alert_id: id.to_string(), comment: ack_comment(words)?, minutes })
        }
        "unack" => match args {
            [id] => Ok(Intent::Unack { alert_id: id.to_string() }),
            _ => Err("usage: unack <alert-id>".into()),
        },
        other => Err(format!("'{other}' is not an action")),
    }
}

/// A cloud by its slug.
pub fn cloud(slug: &str) -> Result<CloudKind, String> {
    CloudKind::from_slug(slug).ok_or_else(|| format!("unknown cloud '{slug}' (aws, azure, aliyun)"))
}

/// A failover from one cloud to another, of `percent` points of the traffic
/// share or all of it. The share is checked first, then the clouds.
pub fn failover(from: &str, to: &str, percent: Option<f64>) -> Result<Intent, String> {
    let percent = percent.map(share).transpose()?;
    let (from, to) = (cloud(from)?, cloud(to)?);
    if from == to {
        return Err("failover needs two different clouds".into());
    }
    Ok(Intent::Shift { from, to, percent })
}

/// The share of traffic a failover moves: more than 0 and at most 100 points
/// (which also refuses NaN).
pub fn share(percent: f64) -> Result<f64, String> {
    if !(percent > 0.0 && percent <= 100.0) {
        return Err("the share to move must be between 0 and 100 %".into());
    }
    Ok(percent)
}

/// `<cloud>/<group>` split at the first '/'; the cloud is not read yet.
pub fn scale_target(target: &str) -> Result<(&str, &str), String> {
    target.split_once('/').ok_or_else(|| "usage: scale <cloud>/<group> <desired>".into())
}

/// A leading "90m" or "2h" word: the minutes it says and the words after it.
/// Without one, no duration and every word.
pub fn leading_duration<'a, 'w>(words: &'a [&'w str]) -> (Option<u32>, &'a [&'w str]) {
    match words.split_first() {
        Some((d, rest)) if parse_duration(d).is_some() => (parse_duration(d), rest),
        _ => (None, words),
    }
}

/// An acknowledgement's duration in minutes: zero is no duration.
pub fn ack_minutes(minutes: u32) -> Option<u32> {
    Some(minutes).filter(|m| *m > 0)
}

/// The comment of an acknowledgement: the words joined, without surrounding
/// quotes (the palette has no shell to remove them). Never empty.
pub fn ack_comment(words: &[&str]) -> Result<String, String> {
    let comment = words.join(" ").trim_matches('"').to_string();
    if comment.trim().is_empty() {
        return Err("an acknowledgement needs a comment: ack <alert-id> [2h] <comment>".into());
    }
    Ok(comment)
}

/// "90m", "2h" → minutes. Any other word (of any script) is not a duration.
fn parse_duration(s: &str) -> Option<u32> {
    if let Some(n) = s.strip_suffix('m') {
        ack_minutes(n.parse().ok()?)
    } else if let Some(n) = s.strip_suffix('h') {
        ack_minutes(n.parse().ok()?)?.checked_mul(60)
    } else {
        None
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

    #[test]
    fn a_comment_in_any_script_is_a_comment() {
        // The first word after the id is tried as a duration; one ending in a
        // multi-byte character used to be cut inside it and panic.
        for first in ["维护", "équipe", "é", "🔥", "2€"] {
            assert_eq!(
                parse("ack", &["id", first, "ok"]),
                Ok(Intent::Ack { alert_id: "id".into(), comment: format!("{first} ok"), minutes: None }),
                "{first}"
            );
        }
        assert_eq!(leading_duration(&["0h", "x"]), (None, &["0h", "x"][..]));
        assert_eq!(leading_duration(&["3h", "x"]), (Some(180), &["x"][..]));
        assert_eq!(leading_duration(&["4294967295h", "x"]), (None, &["4294967295h", "x"][..]), "overflow");
    }
}
