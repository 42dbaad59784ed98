//! Number, time and text formatting shared by the panes and the error paths.

/// Remote text as one short line, for status lines, stale reasons and logs:
/// control characters (line breaks, ESC, NUL, C1) become spaces, runs of
/// whitespace one space, and text longer than `max_chars` is cut to that many
/// characters ending in "…". Escape sequences lose their ESC, so what is left of
/// them is inert text; the UI's sanitiser still guards every cell.
pub fn one_line(s: &str, max_chars: usize) -> String {
    if max_chars == 0 {
        return String::new();
    }
    let spaced = s.chars().map(|c| if c.is_control() { ' ' } else { c });
    let mut out = String::with_capacity(s.len().min(max_chars.saturating_mul(4)));
    let mut count = 0;
    let mut pending_space = false;
    for c in spaced {
        if c.is_whitespace() {
            pending_space = count > 0;
            continue;
        }
        if pending_space {
            out.push(' ');
            count += 1;
            pending_space = false;
        }
        out.push(c);
        count += 1;
        if count > max_chars {
            break;
        }
    }
    if count > max_chars {
        let keep = max_chars.saturating_sub(1);
        out = out.chars().take(keep).collect::<String>();
        out.push('…');
    }
    out
}

/// 1234567.8 → "1,234,568".
pub fn int(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let n = v.round().abs() as u64;
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if v.round() < 0.0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Money with the currency's symbol where it has a common one.
pub fn money(v: f64, currency: &str) -> String {
    match currency {
        "USD" => format!("${}", int(v)),
        "EUR" => format!("€{}", int(v)),
        "CNY" => format!("¥{}", int(v)),
        // A currency code comes from the cloud's answer: shown only once made safe.
        other => format!("{} {}", int(v), crate::ui::sanitize(other)),
    }
}

/// An hourly price to four decimals, with the currency's symbol where it has a
/// common one; "unknown" when nobody reported it.
pub fn hourly(v: Option<f64>, currency: &str) -> String {
    let Some(v) = v else { return "unknown".into() };
    match currency {
        "USD" => format!("${v:.4}"),
        "EUR" => format!("€{v:.4}"),
        "CNY" => format!("¥{v:.4}"),
        other => format!("{v:.4} {}", crate::ui::sanitize(other)),
    }
}

/// A spot saving over on-demand: "−60%", or "+5%" when spot costs more.
pub fn saving(discount: f64) -> String {
    if discount >= 0.0 { format!("−{:.0}%", discount * 100.0) } else { format!("+{:.0}%", -discount * 100.0) }
}

/// A fraction as a percentage with sensible precision.
pub fn pct(fraction: f64) -> String {
    let p = fraction * 100.0;
    if !p.is_finite() {
        "–".into()
    } else if p != 0.0 && p.abs() < 1.0 {
        format!("{p:.2}%")
    } else {
        format!("{p:.1}%")
    }
}

/// Seconds as a short age: 45s, 12m, 3h05m, 2d04h.
pub fn age(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// A lag or duration in seconds, to one decimal under a minute.
pub fn secs(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v < 60.0 {
        format!("{v:.1}s")
    } else {
        age(v as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_flattens_strips_controls_and_bounds() {
        assert_eq!(one_line("  a\n\tb\r\n  c  ", 100), "a b c");
        assert_eq!(one_line("red \u{1b}[31mX\u{7}\u{0}\u{9b}y", 100), "red [31mX y");
        assert_eq!(one_line("abcdef", 6), "abcdef");
        assert_eq!(one_line("abcdefg", 6), "abcde…");
        assert_eq!(one_line("ab cd ef", 5), "ab c…");
        assert_eq!(one_line("\n\n", 10), "");
        assert_eq!(one_line("x", 0), "");
        let long = one_line(&"é ".repeat(10_000), 400);
        assert_eq!(long.chars().count(), 400);
        assert!(!long.chars().any(char::is_control));
    }

    #[test]
    fn formats() {
        assert_eq!(int(1_234_567.8), "1,234,568");
        assert_eq!(int(999.0), "999");
        assert_eq!(int(-1234.0), "-1,234");
        assert_eq!(money(8230.4, "USD"), "$8,230");
        assert_eq!(pct(0.0016), "0.16%");
        assert_eq!(pct(0.5), "50.0%");
        assert_eq!(age(59), "59s");
        assert_eq!(age(3900), "1h05m");
        assert_eq!(age(200_000), "2d07h");
        assert_eq!(secs(0.25), "0.2s");
        assert_eq!(int(f64::NAN), "–");
    }
}
