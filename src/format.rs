//! Number and time formatting shared by the panes.

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
        other => format!("{} {other}", int(v)),
    }
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
