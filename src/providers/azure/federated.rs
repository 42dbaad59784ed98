//! Workload identity (AKS, or any OIDC federation): the federated token file
//! named by AZURE_FEDERATED_TOKEN_FILE is the client assertion. azure_identity's
//! `WorkloadIdentityCredential` keeps the file's content for ten minutes; this
//! reads it again for every token request, so a rotated token is used at once
//! (a request comes once per access token, about an hour).

use std::path::PathBuf;

use azure_core::error::ErrorKind;
use azure_core::http::ClientMethodOptions;
use azure_identity::ClientAssertion;

use crate::credentials::Secret;

/// The federated token file, read on every token request.
#[derive(Debug, Clone)]
pub struct FileAssertion {
    pub path: PathBuf,
}

#[async_trait::async_trait]
impl ClientAssertion for FileAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        let path = self.path.clone();
        let read = tokio::task::spawn_blocking(move || std::fs::read_to_string(&path)).await;
        let words = |e: String| {
            azure_core::Error::with_message(
                ErrorKind::Credential,
                format!("federated token file {}: {e}", self.path.display()),
            )
        };
        match read {
            Ok(Ok(token)) if !token.trim().is_empty() => {
                // Held like any secret, so an echo of it is scrubbed from every output.
                let token = Secret::new(token.trim());
                Ok(token.expose().to_string())
            }
            Ok(Ok(_)) => Err(words("empty".into())),
            Ok(Err(e)) => Err(words(e.to_string())),
            Err(e) => Err(words(e.to_string())),
        }
    }
}
