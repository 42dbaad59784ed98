//! The one rule for keeping secrets out of everything opsdeck prints, logs or
//! writes. Every output path (stale reasons, logs, doctor, snapshot, runbook,
//! action errors, audit) goes through [`redact`].
//!
//! A remote system can echo a secret back in many forms: raw, base64 (standard or
//! URL-safe, padded or not) of the secret or of `user:password` (HTTP basic auth),
//! percent-encoded, or as the value of an `Authorization`-style header quoted in an
//! error body. Every form of every secret this process holds is scrubbed, and the
//! value of any credential-bearing header is scrubbed even when opsdeck never held
//! it (a proxy's own token, a signed header).

use std::borrow::Cow;
use std::sync::{LazyLock, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use regex::{Captures, Regex};

/// Shorter values are not scrubbed: they would blank ordinary words.
pub const MIN_SCRUBBED_LEN: usize = 6;

const MASK: &str = "***";

/// Every form of every secret held, longest first (so a form that contains
/// another is replaced whole).
static FORMS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// RFC 3986 unreserved characters stay as they are (`encodeURIComponent`, Go's
/// `url.QueryEscape` minus the space rule).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The value after a credential-bearing header's name (and its auth scheme, if
/// any), up to where the quoted value ends.
static HEADER_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?i)((?:proxy-)?authorization|x-api-key|api-key|x-auth-token|x-acs-security-token|x-amz-security-token"#,
        r#"|ocp-apim-subscription-key|x-ms-client-secret)"#,
        // The separator as it appears when quoted: `: `, `=`, `":"`, `' => '`.
        r#"(["']?\s*(?:=>|[:=])\s*["']?)"#,
        r#"((?:bearer|basic|digest|negotiate|token|sharedkey|acs3-hmac-sha256|aws4-hmac-sha256|acs)\s+)?"#,
        r#"([^\s"',;&}\]\\]+)"#
    ))
    .unwrap_or_else(|e| panic!("the header pattern is a constant and compiles: {e}"))
});

/// Remember a secret and the forms it can be echoed in.
pub fn hold(secret: &str) {
    if secret.len() < MIN_SCRUBBED_LEN {
        return;
    }
    let bytes = secret.as_bytes();
    let mut forms = vec![secret.to_string()];
    forms.extend(base64_forms(bytes));
    for set in [NON_ALPHANUMERIC, COMPONENT] {
        let upper = utf8_percent_encode(secret, set).to_string();
        // Servers echo hex in either case; form encoding writes a space as '+'.
        forms.push(lower_hex(&upper));
        forms.push(upper.replace("%20", "+"));
        forms.push(upper);
    }
    add(forms);
}

/// Remember HTTP basic credentials: what the `Authorization: Basic` header
/// carries is base64 of `user:password`, a form of the password alone nowhere.
pub fn hold_basic(user: &str, password: &str) {
    hold(password);
    if password.len() >= MIN_SCRUBBED_LEN {
        add(base64_forms(format!("{user}:{password}").as_bytes()));
    }
}

/// The secret-bearing variables of the clouds' standard credential chains.
pub const SECRET_ENV_VARS: &[&str] = &[
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALICLOUD_ACCESS_KEY_SECRET",
];

/// Hold every secret-bearing variable of the environment (`read` is
/// `std::env::var`, injected for tests).
pub fn hold_environment<E>(read: impl Fn(&str) -> Result<String, E>) {
    for name in SECRET_ENV_VARS {
        if let Ok(v) = read(name) {
            hold(&v);
        }
    }
}

fn base64_forms(bytes: &[u8]) -> Vec<String> {
    vec![STANDARD.encode(bytes), STANDARD_NO_PAD.encode(bytes), URL_SAFE.encode(bytes), URL_SAFE_NO_PAD.encode(bytes)]
}

fn lower_hex(percent_encoded: &str) -> String {
    let mut out = String::with_capacity(percent_encoded.len());
    let mut rest = percent_encoded;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let code = rest.get(i..i + 3).unwrap_or(&rest[i..]);
        out.push_str(&code.to_ascii_lowercase());
        rest = &rest[i + code.len()..];
    }
    out.push_str(rest);
    out
}

fn add(new: Vec<String>) {
    let mut forms = FORMS.lock().unwrap_or_else(|e| e.into_inner());
    for f in new {
        if f.len() >= MIN_SCRUBBED_LEN && !forms.contains(&f) {
            forms.push(f);
        }
    }
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
}

/// `text` with every held secret, in every form, and every credential header's
/// value replaced by `***`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    {
        let forms = FORMS.lock().unwrap_or_else(|e| e.into_inner());
        for f in forms.iter() {
            if out.contains(f.as_str()) {
                out = Cow::Owned(out.replace(f.as_str(), MASK));
            }
        }
    }
    if HEADER_VALUE.is_match(&out) {
        let scrubbed = HEADER_VALUE.replace_all(&out, |c: &Captures| {
            let value = c.get(4).map_or("", |m| m.as_str());
            if value == MASK {
                return c[0].to_string();
            }
            format!("{}{}{}{MASK}", &c[1], &c[2], c.get(3).map_or("", |m| m.as_str()))
        });
        if let Cow::Owned(s) = scrubbed {
            out = Cow::Owned(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A secret whose encodings all differ: '+', '/' and '=' in base64, reserved
    /// characters for percent-encoding.
    const SECRET: &str = "s3cr/et+val=ue?>~ x";

    fn every_form() -> Vec<(&'static str, String)> {
        let pair = format!("oncall:{SECRET}");
        vec![
            ("raw", SECRET.to_string()),
            ("base64", STANDARD.encode(SECRET)),
            ("base64 unpadded", STANDARD_NO_PAD.encode(SECRET)),
            ("base64url", URL_SAFE.encode(SECRET)),
            ("base64url unpadded", URL_SAFE_NO_PAD.encode(SECRET)),
            ("basic pair", STANDARD.encode(&pair)),
            ("basic pair unpadded", STANDARD_NO_PAD.encode(&pair)),
            ("basic pair url", URL_SAFE.encode(&pair)),
            ("basic pair url unpadded", URL_SAFE_NO_PAD.encode(&pair)),
            ("percent", utf8_percent_encode(SECRET, NON_ALPHANUMERIC).to_string()),
            ("percent lower", lower_hex(&utf8_percent_encode(SECRET, NON_ALPHANUMERIC).to_string())),
            ("component", utf8_percent_encode(SECRET, COMPONENT).to_string()),
            ("form", utf8_percent_encode(SECRET, COMPONENT).to_string().replace("%20", "+")),
        ]
    }

    #[test]
    fn every_form_of_a_held_secret_is_scrubbed() {
        hold_basic("oncall", SECRET);
        let forms = every_form();
        // The forms really differ, or the test would prove less than it says.
        let mut distinct: Vec<&String> = forms.iter().map(|(_, f)| f).collect();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), forms.len(), "{forms:?}");
        for (name, form) in forms {
            let echoed = format!("{{\"error\":\"denied for {form} at the edge\"}}");
            let shown = redact(&echoed);
            assert!(!shown.contains(&form), "{name} survived: {shown}");
            assert_eq!(shown, "{\"error\":\"denied for *** at the edge\"}", "{name}");
        }
    }

    #[test]
    fn credential_headers_quoted_back_are_scrubbed_even_if_never_held() {
        for (echoed, shown) in [
            ("you sent Authorization: Bearer eyJhbGciOi.unknown.token", "you sent Authorization: Bearer ***"),
            ("{\"authorization\":\"Basic Zm9vOmJhcg==\"}", "{\"authorization\":\"Basic ***\"}"),
            (
                "headers: {'Proxy-Authorization': 'Basic cHJveHk6cGFzcw=='}",
                "headers: {'Proxy-Authorization': 'Basic ***'}",
            ),
            ("X-Api-Key=abcdef123456&next=1", "X-Api-Key=***&next=1"),
            ("x-acs-security-token: CAIS+sts/token==, rest", "x-acs-security-token: ***, rest"),
            (
                "Authorization: ACS3-HMAC-SHA256 Credential=LTAIkey,SignedHeaders=host,Signature=abc",
                "Authorization: ACS3-HMAC-SHA256 ***,SignedHeaders=host,Signature=abc",
            ),
            ("the author: Ann", "the author: Ann"),
        ] {
            assert_eq!(redact(echoed), shown, "{echoed}");
        }
    }

    #[test]
    fn the_clouds_environment_secrets_are_held() {
        hold_environment(|name| match name {
            "AWS_SECRET_ACCESS_KEY" => Ok("wJalrXUtnFEMI/K7MDENG+bPxRfiCY".to_string()),
            _ => Err(()),
        });
        assert_eq!(redact("echo: wJalrXUtnFEMI/K7MDENG+bPxRfiCY"), "echo: ***");
        assert_eq!(redact("echo: wJalrXUtnFEMI%2FK7MDENG%2BbPxRfiCY"), "echo: ***");
    }

    #[test]
    fn text_without_secrets_is_not_copied() {
        assert!(matches!(redact("nothing secret here"), Cow::Borrowed(_)));
    }

    #[test]
    fn short_values_are_left_alone() {
        hold("abc");
        hold_basic("u", "pw");
        assert_eq!(redact("abc pw dTpwdw=="), "abc pw dTpwdw==");
    }
}
