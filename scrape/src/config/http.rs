//! HTTP client settings inlined in a scrape config (`basic_auth`, `authorization`, `tls_config`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// `basic_auth`: username and password, each given inline or through a file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BasicAuth {
    /// The user name.
    pub username: String,
    /// A file holding the user name (re-read on every request).
    pub username_file: Option<PathBuf>,
    /// The password (serialised as `<secret>`).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "secret")]
    pub password: Option<String>,
    /// A file holding the password (re-read on every request).
    pub password_file: Option<PathBuf>,
}

/// `authorization`: `Authorization: <type> <credentials>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Authorization {
    /// The scheme, default `Bearer`.
    #[serde(rename = "type")]
    pub auth_type: Option<String>,
    /// The credentials (serialised as `<secret>`).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "secret")]
    pub credentials: Option<String>,
    /// A file holding the credentials (re-read on every request).
    pub credentials_file: Option<PathBuf>,
}

/// `tls_config`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// Inline PEM CA certificates.
    pub ca: Option<String>,
    /// File with PEM CA certificates.
    pub ca_file: Option<PathBuf>,
    /// Inline PEM client certificate.
    pub cert: Option<String>,
    /// File with the PEM client certificate.
    pub cert_file: Option<PathBuf>,
    /// Inline PEM client key (serialised as `<secret>`).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "secret")]
    pub key: Option<String>,
    /// File with the PEM client key.
    pub key_file: Option<PathBuf>,
    /// Name the server certificate is verified against instead of the URL's host.
    pub server_name: Option<String>,
    /// Skip certificate verification.
    pub insecure_skip_verify: bool,
    /// Minimum TLS version (`TLS12`, `TLS13`).
    pub min_version: Option<String>,
    /// Maximum TLS version.
    pub max_version: Option<String>,
}

/// Reads a secret file, trimming surrounding whitespace as Prometheus does.
pub(crate) fn read_secret_file(path: &Path) -> std::io::Result<String> {
    Ok(std::fs::read_to_string(path)?.trim().to_string())
}

impl TlsConfig {
    /// Resolves relative file paths against `dir`.
    pub(crate) fn resolve_paths(&mut self, dir: &Path) {
        for p in [&mut self.ca_file, &mut self.cert_file, &mut self.key_file]
            .into_iter()
            .flatten()
        {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        }
    }
}

/// Serialises a present secret as `<secret>`, as `/api/v1/status/config` shows it.
pub(crate) fn secret<S: serde::Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(_) => s.serialize_str("<secret>"),
        None => s.serialize_none(),
    }
}
