//! The key a source signs with, now. A long-lived key is resolved once (the
//! standard chain reads files and the keyring: blocking, so off the reactor); a
//! temporary one (ECS RAM role, STS AssumeRole) is fetched and renewed before it
//! expires — when less than [`Refresh::margin`] is left — under one async lock,
//! so concurrent calls wait for a single renewal instead of racing. A renewal that
//! fails while the held key is still valid keeps that key (and says so in the log).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::client::{KeySource, Product, RetryPolicy};
use super::creds::{self, Identity, Origin};
use super::sign::{AccessKey, SignatureVersion};
use super::{metadata, sts};
use crate::providers::ProviderError;
use crate::providers::tls::{self, ExtraRoots};

pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// When a temporary key is renewed.
#[derive(Clone)]
pub struct Refresh {
    /// Renew when less than this is left before the key's Expiration.
    pub margin: chrono::Duration,
    /// Now (injected by tests).
    pub clock: Clock,
}

impl Default for Refresh {
    fn default() -> Self {
        Refresh { margin: chrono::Duration::minutes(5), clock: Arc::new(Utc::now) }
    }
}

/// What fetching a temporary key needs: the source's endpoints and TLS roots.
#[derive(Clone)]
pub struct Settings {
    pub timeout: Duration,
    pub endpoints: BTreeMap<Product, String>,
    pub signature: SignatureVersion,
    pub retry: RetryPolicy,
    pub roots: Option<ExtraRoots>,
    /// The ECS metadata service's base URL.
    pub metadata_url: String,
    pub refresh: Refresh,
}

/// The key now held, and until when it works (None: until it is refused).
#[derive(Clone)]
struct Held {
    key: AccessKey,
    expires: Option<DateTime<Utc>>,
    /// The ECS role the metadata service named, when the config did not.
    role: Option<String>,
}

#[derive(Default)]
struct State {
    identity: Option<(Identity, Option<Origin>)>,
    held: Option<Held>,
}

pub struct Keys {
    source: KeySource,
    settings: Settings,
    metadata_http: reqwest::Client,
    state: tokio::sync::Mutex<State>,
}

impl Keys {
    pub fn new(source: KeySource, settings: Settings) -> Result<Keys, ProviderError> {
        // The metadata service is link-local: a short connect timeout says "not on ECS" quickly.
        let builder = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(2)));
        let metadata_http = tls::with_roots(builder, settings.roots.as_ref())
            .build()
            .map_err(|e| ProviderError::Unreachable(format!("HTTP client: {e}")))?;
        Ok(Keys { source, settings, metadata_http, state: tokio::sync::Mutex::new(State::default()) })
    }

    /// The key to sign with now, renewed first if it is about to expire.
    pub async fn current(&self) -> Result<AccessKey, ProviderError> {
        Ok(self.held().await?.0.key)
    }

    /// Which identity signs, in words, with the held key's expiry: for `doctor`.
    pub async fn describe(&self) -> Result<String, ProviderError> {
        let (held, identity, origin) = self.held().await?;
        let identity = match (identity, &held.role) {
            (Identity::EcsRamRole { role: None }, Some(r)) => Identity::EcsRamRole { role: Some(r.clone()) },
            (i, _) => i,
        };
        let what = match &origin {
            Some(o) => creds::describe(&identity, o),
            None => format!("AccessKey {} given to the source", held.key.id),
        };
        Ok(match held.expires {
            Some(at) => format!("{what}; temporary key valid until {}", at.format("%Y-%m-%d %H:%M:%SZ")),
            None => what,
        })
    }

    async fn held(&self) -> Result<(Held, Identity, Option<Origin>), ProviderError> {
        let mut state = self.state.lock().await;
        let now = (self.settings.refresh.clock)();
        let (identity, origin) = match &state.identity {
            Some(known) => known.clone(),
            None => {
                let known = self.resolve().await?;
                state.identity = Some(known.clone());
                known
            }
        };
        if let Some(h) = &state.held
            && !self.due(h, now)
        {
            return Ok((h.clone(), identity, origin));
        }
        match self.fetch(&identity).await {
            Ok(h) => {
                state.held = Some(h.clone());
                Ok((h, identity, origin))
            }
            Err(e) => match &state.held {
                Some(h) if h.expires.is_some_and(|at| now < at) => {
                    log::warn!("renewing the Alibaba Cloud temporary key failed ({e}); the held one is still valid");
                    Ok((h.clone(), identity, origin))
                }
                _ => Err(e),
            },
        }
    }

    fn due(&self, h: &Held, now: DateTime<Utc>) -> bool {
        h.expires.is_some_and(|at| at - now < self.settings.refresh.margin)
    }

    async fn resolve(&self) -> Result<(Identity, Option<Origin>), ProviderError> {
        match &self.source {
            KeySource::Given(k) => Ok((Identity::Key(k.clone()), None)),
            KeySource::Resolve(f) => {
                let f = f.clone();
                // Keyring calls and file reads block; they must not run on the reactor.
                let (identity, origin) = tokio::task::spawn_blocking(move || f())
                    .await
                    .map_err(|e| ProviderError::Auth(format!("credential lookup failed: {e}")))?
                    .map_err(ProviderError::Auth)?;
                log::info!("Alibaba Cloud identity: {}", creds::describe(&identity, &origin));
                Ok((identity, Some(origin)))
            }
        }
    }

    async fn fetch(&self, identity: &Identity) -> Result<Held, ProviderError> {
        match identity {
            Identity::Key(k) => Ok(Held { key: k.clone(), expires: None, role: None }),
            Identity::EcsRamRole { role } => {
                let (role, t) =
                    metadata::role_key(&self.metadata_http, &self.settings.metadata_url, role.as_deref()).await?;
                log::debug!("ECS RAM role {role}: temporary key valid until {}", t.expires);
                Ok(Held { key: t.key, expires: Some(t.expires), role: Some(role) })
            }
            Identity::RamRoleArn(a) => {
                // Boxed: AssumeRole goes through a Client, whose keys are a Keys of their own.
                let t = Box::pin(sts::assume_role(&self.settings, a)).await?;
                log::debug!("AssumeRole {}: temporary key valid until {}", a.role_arn, t.expires);
                Ok(Held { key: t.key, expires: Some(t.expires), role: None })
            }
        }
    }
}
