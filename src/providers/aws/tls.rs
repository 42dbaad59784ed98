//! The SDK's HTTPS client with a source's `ca_file`, and certificate failures kept
//! out of the SDK's retries.
//!
//! The client is the SDK's own (aws-smithy-http-client on rustls with aws-lc, what
//! `default-https-client` builds), given a trust store of the system roots plus the
//! file's certificates: one TLS stack, and `SSL_CERT_FILE` still replaces the
//! system roots as rustls-native-certs reads it.

use aws_sdk_autoscaling::config::SharedHttpClient;
use aws_sdk_autoscaling::config::interceptors::InterceptorContext;
use aws_sdk_autoscaling::config::retry::{ClassifyRetry, RetryAction};
use aws_smithy_http_client::tls::{self as smithy_tls, rustls_provider::CryptoMode};

use crate::providers::tls::{self, ExtraRoots};

/// The SDK's HTTPS client trusting `roots` besides the system's.
pub fn http_client(roots: &ExtraRoots) -> SharedHttpClient {
    let context = smithy_tls::TlsContext::builder().with_trust_store(roots.smithy_trust_store()).build();
    let builder = aws_smithy_http_client::Builder::new().tls_provider(smithy_tls::Provider::Rustls(CryptoMode::AwsLc));
    match context {
        Ok(ctx) => builder.tls_context(ctx).build_https(),
        // build() cannot fail today; if it ever does, the system roots still serve.
        Err(e) => {
            log::warn!("ca_file {}: {e}; using the system roots alone", roots.path().display());
            builder.build_https()
        }
    }
}

/// Forbids retrying a request whose connection failed on the certificate: the
/// next try meets the same certificate, and the retries' backoff would only delay
/// the words past the poll's timeout.
#[derive(Debug, Default)]
pub struct NoRetryOnCertificate;

impl ClassifyRetry for NoRetryOnCertificate {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match ctx.output_or_error() {
            Some(Err(e)) if e.as_connector_error().is_some_and(|c| tls::problem(c).is_some()) => {
                RetryAction::RetryForbidden
            }
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "opsdeck-no-retry-on-certificate"
    }
}
