//! STS AssumeRole for the aliyun CLI's RamRoleArn profiles: an RPC call signed
//! with the profile's own AccessKey, answered with a temporary key for the role.

use super::client::{Client, KeySource, Product};
use super::creds::AssumeRole;
use super::keys::{Keys, Settings};
use super::temporary::{self, Temporary};
use crate::providers::ProviderError;

/// A temporary key for `a.role_arn`, from the `sts` endpoint of `settings`.
pub async fn assume_role(settings: &Settings, a: &AssumeRole) -> Result<Temporary, ProviderError> {
    // The base key signs this call alone; the role's key signs everything else.
    let base = Keys::new(KeySource::Given(a.base.clone()), settings.clone())?;
    let client = Client::new(
        settings.timeout,
        settings.endpoints.clone(),
        settings.signature,
        std::sync::Arc::new(base),
        settings.retry,
        settings.roots.as_ref(),
    )?;
    let params = [
        ("RoleArn", a.role_arn.clone()),
        ("RoleSessionName", a.session_name.clone()),
        ("DurationSeconds", a.duration_secs.to_string()),
    ];
    let v = client.read(Product::Sts, "AssumeRole", &params).await?;
    let creds = v
        .get("Credentials")
        .ok_or_else(|| ProviderError::BadResponse("AssumeRole: answer has no Credentials".into()))?;
    temporary::parse(&format!("AssumeRole {}", a.role_arn), creds).map_err(ProviderError::BadResponse)
}
