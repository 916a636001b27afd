//! TLS to Redis (`rediss://`): a private CA and, for mutual TLS, a client certificate and key.
//! Without a CA file, the system's trust store is used.

use std::path::{Path, PathBuf};

use super::error::{invalid, ConfigError};

/// Where the PEM files are (`redis_ca_file`, `redis_client_cert`, `redis_client_key`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedisTls {
    /// The CA that signed Redis's certificate.
    pub ca_file: Option<PathBuf>,
    /// This client's certificate, for Redis's `tls-auth-clients yes`.
    pub client_cert: Option<PathBuf>,
    /// That certificate's key.
    pub client_key: Option<PathBuf>,
}

impl RedisTls {
    /// A client for `url` (`redis://`, or `rediss://` for TLS), trusting these CA files and
    /// showing this client certificate when given, else the system's trust store.
    pub fn client(&self, url: &str) -> Result<redis::Client, ConfigError> {
        let built = if self.is_set() {
            redis::Client::build_with_tls(url, self.certificates()?)
        } else {
            redis::Client::open(url)
        };
        built.map_err(|e| ConfigError::Invalid {
            key: "redis_url".into(),
            message: format!("{}: {e}", super::redact(url)),
        })
    }

    /// Whether any file is given.
    pub fn is_set(&self) -> bool {
        self.ca_file.is_some() || self.client_cert.is_some() || self.client_key.is_some()
    }

    /// Checks the files can be read and hold PEM, naming the key of the first that cannot.
    pub(super) fn check(&self, redis_url: &str) -> Result<(), ConfigError> {
        if self.client_cert.is_some() != self.client_key.is_some() {
            return Err(invalid(
                "redis_client_cert",
                "redis_client_cert and redis_client_key go together (mutual TLS needs both)",
            ));
        }
        if self.is_set() && !redis_url.starts_with("rediss://") {
            return Err(invalid(
                "redis_ca_file",
                "TLS files are given but redis_url is not rediss:// (TLS)",
            ));
        }
        for (key, path) in [
            ("redis_ca_file", &self.ca_file),
            ("redis_client_cert", &self.client_cert),
            ("redis_client_key", &self.client_key),
        ] {
            if let Some(path) = path {
                read_pem(key, path)?;
            }
        }
        Ok(())
    }

    /// The certificates for `redis::Client::build_with_tls`.
    pub fn certificates(&self) -> Result<redis::TlsCertificates, ConfigError> {
        let root_cert = match &self.ca_file {
            Some(path) => Some(read_pem("redis_ca_file", path)?),
            None => None,
        };
        let client_tls = match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => Some(redis::ClientTlsConfig {
                client_cert: read_pem("redis_client_cert", cert)?,
                client_key: read_pem("redis_client_key", key)?,
            }),
            _ => None,
        };
        Ok(redis::TlsCertificates {
            client_tls,
            root_cert,
        })
    }
}

fn read_pem(key: &str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    let bytes = std::fs::read(path)
        .map_err(|e| invalid(key, format!("cannot read {}: {e}", path.display())))?;
    if !String::from_utf8_lossy(&bytes).contains("-----BEGIN ") {
        return Err(invalid(
            key,
            format!("{} is not a PEM file", path.display()),
        ));
    }
    Ok(bytes)
}
