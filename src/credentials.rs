//! Credentials: the clouds' own standard chains first, then secrets opsdeck keeps
//! in the OS keyring (service `opsdeck`, entry `<source>/<field>`). Never a file.
//!
//! Keyring calls block (and the Secret Service client must not run on the async
//! reactor): call them from plain threads or `spawn_blocking`.

use std::fmt;

use keyring::Entry;

/// The keyring service every opsdeck entry lives under.
pub const SERVICE: &str = "opsdeck";

/// A secret value. Debug and Display print `***`, so it cannot leak into logs,
/// panics, `--json` output or the audit log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        crate::redaction::hold(&value);
        Secret(value)
    }
    /// The value, for the one place that must send it (an HTTP header, a signer).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// `text` with every secret this process holds, in every form a remote system can
/// echo it, replaced by `***` (see [`crate::redaction`]).
pub use crate::redaction::redact;

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Which keyring holds opsdeck's secrets on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// GNOME Keyring / KWallet over D-Bus (a desktop, or `dbus-run-session`).
    SecretService,
    /// The Linux kernel keyring of the login session (headless bastions: pam_keyinit).
    KernelKeyring,
    /// macOS Keychain / Windows Credential Manager.
    Platform,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::SecretService => "Secret Service",
            Backend::KernelKeyring => "kernel keyring (session)",
            Backend::Platform => "platform keychain",
        }
    }

    /// The Secret Service where a session bus exists, else the kernel keyring.
    /// `OPSDECK_KEYRING=secret-service|kernel` overrides.
    pub fn detect() -> Backend {
        if !cfg!(target_os = "linux") {
            return Backend::Platform;
        }
        match std::env::var("OPSDECK_KEYRING").ok().as_deref() {
            Some("kernel") => Backend::KernelKeyring,
            Some("secret-service") => Backend::SecretService,
            _ if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() => Backend::SecretService,
            _ => Backend::KernelKeyring,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredError {
    #[error("{backend} is not usable here: {detail}. {fix}", backend = .backend.label())]
    Unavailable { backend: Backend, detail: String, fix: &'static str },
    #[error("{0}")]
    Keyring(String),
    #[error("entry names must look like <source>/<field> with no spaces: {0:?}")]
    BadName(String),
}

const FIX_SECRET_SERVICE: &str = "Start a D-Bus session with an unlocked keyring (a desktop login, or \
     `dbus-run-session` with gnome-keyring-daemon --unlock), use OPSDECK_KEYRING=kernel on a headless \
     host, or rely on the cloud's own credential chain";
const FIX_KERNEL: &str = "The kernel keyring needs a login session keyring (an SSH login with pam_keyinit, or \
     `keyctl session -`); or run under a D-Bus session for the Secret Service, or rely on the cloud's own \
     credential chain";

/// opsdeck's entries in the OS keyring.
#[derive(Debug, Clone, Copy)]
pub struct Keyring {
    pub backend: Backend,
}

fn check_name(part: &str) -> Result<(), CredError> {
    if part.is_empty() || part.contains(char::is_whitespace) || part.contains('/') && part.split('/').any(str::is_empty)
    {
        return Err(CredError::BadName(part.to_string()));
    }
    Ok(())
}

impl Keyring {
    pub fn detect() -> Keyring {
        Keyring { backend: Backend::detect() }
    }

    fn entry(&self, source: &str, field: &str) -> Result<Entry, CredError> {
        check_name(source)?;
        check_name(field)?;
        let user = format!("{source}/{field}");
        let fail = |e: keyring::Error| self.error(e);
        match self.backend {
            #[cfg(target_os = "linux")]
            Backend::SecretService => {
                let c = keyring::secret_service::SsCredential::new_with_target(None, SERVICE, &user).map_err(fail)?;
                Ok(Entry::new_with_credential(Box::new(c)))
            }
            #[cfg(target_os = "linux")]
            Backend::KernelKeyring => {
                let c = keyring::keyutils::KeyutilsCredential::new_with_target(None, SERVICE, &user).map_err(fail)?;
                Ok(Entry::new_with_credential(Box::new(c)))
            }
            _ => Entry::new(SERVICE, &user).map_err(fail),
        }
    }

    fn error(&self, e: keyring::Error) -> CredError {
        match e {
            keyring::Error::PlatformFailure(d) | keyring::Error::NoStorageAccess(d) => CredError::Unavailable {
                backend: self.backend,
                detail: d.to_string(),
                fix: if self.backend == Backend::KernelKeyring { FIX_KERNEL } else { FIX_SECRET_SERVICE },
            },
            other => CredError::Keyring(other.to_string()),
        }
    }

    pub fn set(&self, source: &str, field: &str, secret: &Secret) -> Result<(), CredError> {
        match self.entry(source, field)?.set_password(secret.expose()) {
            Ok(()) => Ok(()),
            // The kernel keyring answers "no entry" when there is no session keyring to write into.
            Err(keyring::Error::NoEntry) => Err(CredError::Unavailable {
                backend: self.backend,
                detail: "there is no session keyring to store into".into(),
                fix: if self.backend == Backend::KernelKeyring { FIX_KERNEL } else { FIX_SECRET_SERVICE },
            }),
            Err(e) => Err(self.error(e)),
        }
    }

    /// The stored secret, or `None` when there is no such entry.
    pub fn get(&self, source: &str, field: &str) -> Result<Option<Secret>, CredError> {
        match self.entry(source, field)?.get_password() {
            Ok(p) => Ok(Some(Secret::new(p))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.error(e)),
        }
    }

    /// Remove an entry; `false` when there was none.
    pub fn remove(&self, source: &str, field: &str) -> Result<bool, CredError> {
        match self.entry(source, field)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(self.error(e)),
        }
    }
}

/// Where opsdeck's own stored secrets are read from: the OS keyring in the
/// program, keyring's mock store in tests. Every resolver takes this, so the
/// resolution order is tested against the same calls the program makes.
pub trait SecretStore: Send + Sync {
    /// The secret of `<source>/<field>`, `None` when there is no such entry.
    fn get(&self, source: &str, field: &str) -> Result<Option<Secret>, CredError>;
    /// What the store is, for messages ("Secret Service", ...).
    fn label(&self) -> &'static str;
}

impl SecretStore for Keyring {
    fn get(&self, source: &str, field: &str) -> Result<Option<Secret>, CredError> {
        Keyring::get(self, source, field)
    }
    fn label(&self) -> &'static str {
        self.backend.label()
    }
}

/// Where a credential of a source comes from, first match wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// The cloud's own chain has it (environment variable, profile, CLI login...).
    Chain(String),
    /// opsdeck's keyring entry (the store's label).
    Keyring(&'static str),
    /// Nothing found.
    Missing,
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resolution::Chain(how) => write!(f, "cloud chain: {how}"),
            Resolution::Keyring(store) => write!(f, "keyring ({store}): {SERVICE} / entry"),
            Resolution::Missing => f.write_str("not found"),
        }
    }
}

/// What the AWS standard chain would use, as far as can be told without calling
/// AWS (SSO, assume-role and instance metadata are resolved by the SDK at run time).
pub fn aws_chain(
    env: &dyn Fn(&str) -> Option<String>,
    profile: Option<&str>,
    home: Option<&std::path::Path>,
) -> Resolution {
    if env("AWS_ACCESS_KEY_ID").is_some() && env("AWS_SECRET_ACCESS_KEY").is_some() {
        return Resolution::Chain("environment (AWS_ACCESS_KEY_ID)".into());
    }
    if let Some(p) = profile.map(String::from).or_else(|| env("AWS_PROFILE")) {
        return Resolution::Chain(format!("profile {p} (shared config files)"));
    }
    if env("AWS_WEB_IDENTITY_TOKEN_FILE").is_some() {
        return Resolution::Chain("web identity token (AWS_WEB_IDENTITY_TOKEN_FILE)".into());
    }
    if let Some(h) = home
        && (h.join(".aws/credentials").is_file() || h.join(".aws/config").is_file())
    {
        return Resolution::Chain("default profile (~/.aws)".into());
    }
    Resolution::Chain("SSO / container / instance metadata, if any (resolved when polling)".into())
}

/// Resolve one secret field: the chain's answer if it has one, else the keyring.
pub fn resolve(chain: Option<Resolution>, store: Option<&dyn SecretStore>, source: &str, field: &str) -> Resolution {
    if let Some(r @ Resolution::Chain(_)) = chain {
        return r;
    }
    match store.map(|s| (s.label(), s.get(source, field))) {
        Some((label, Ok(Some(_)))) => Resolution::Keyring(label),
        _ => Resolution::Missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_echoing_a_held_secret_is_scrubbed() {
        let _held = Secret::new("echoed-t0ken-91f3");
        assert_eq!(redact("401: bad header Bearer echoed-t0ken-91f3 (x)"), "401: bad header Bearer *** (x)");
        assert!(matches!(redact("nothing secret here"), std::borrow::Cow::Borrowed(_)));
        let _short = Secret::new("abc");
        assert_eq!(redact("abc"), "abc", "too short to scrub safely");
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?} {:?}", Some(&s)), "*** *** Some(***)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn aws_chain_order() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        let both = env(&[("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "b"), ("AWS_PROFILE", "p")]);
        assert!(aws_chain(&both, None, None).to_string().contains("environment"));
        let prof = env(&[("AWS_PROFILE", "ops")]);
        assert!(aws_chain(&prof, None, None).to_string().contains("profile ops"));
        assert!(
            aws_chain(&prof, Some("cfg"), None).to_string().contains("profile cfg"),
            "config wins over AWS_PROFILE"
        );
        let none = env(&[]);
        assert!(aws_chain(&none, None, None).to_string().contains("instance metadata"));
    }

    #[test]
    fn the_chain_wins_over_the_keyring_and_names_are_checked() {
        let k = Keyring { backend: Backend::KernelKeyring };
        let r = resolve(Some(Resolution::Chain("env".into())), Some(&k), "aws", "secret");
        assert_eq!(r, Resolution::Chain("env".into()));
        assert!(matches!(k.entry("bad name", "x"), Err(CredError::BadName(_))));
        assert!(matches!(k.entry("src", ""), Err(CredError::BadName(_))));
    }
}
