//! A private `redis-server` speaking TLS: a throwaway CA and a server certificate for
//! 127.0.0.1 made with rcgen, written to a temporary directory, and a TLS port beside the plain
//! one (the plain port is for readiness checks and for writing test data).

use std::path::PathBuf;

use pulseboard_server::redis_server::{free_port, RedisServer};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

/// How to reach a Redis's TLS port.
pub struct TlsPort {
    /// `rediss://127.0.0.1:<tls port>`.
    pub tls_url: String,
    /// The CA's certificate (PEM), in a temporary directory.
    pub ca_file: PathBuf,
}

impl TlsPort {
    /// Starts a Redis with a TLS port (its plain port is `redis.url()`); `extra` adds
    /// `redis-server` arguments.
    pub async fn start(extra: &[&str]) -> (RedisServer, Self) {
        let dir = std::env::temp_dir().join(format!(
            "pulseboard-tls-{}-{}",
            std::process::id(),
            free_port().unwrap()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate().unwrap();
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &ca, &ca_key)
            .unwrap();
        let write = |name: &str, pem: String| {
            let path = dir.join(name);
            std::fs::write(&path, pem).unwrap();
            path
        };
        let ca_file = write("ca.pem", ca.pem());
        let cert = write("server.pem", leaf.pem());
        let key = write("server.key", leaf_key.serialize_pem());
        let tls_port = free_port().unwrap();
        let mut args: Vec<String> = vec![
            "--tls-port".into(),
            tls_port.to_string(),
            "--tls-cert-file".into(),
            cert.display().to_string(),
            "--tls-key-file".into(),
            key.display().to_string(),
            "--tls-ca-cert-file".into(),
            ca_file.display().to_string(),
            "--tls-auth-clients".into(),
            "no".into(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let redis = RedisServer::start_with_args(args)
            .await
            .expect("start a TLS redis-server");
        let port = Self {
            tls_url: format!("rediss://127.0.0.1:{tls_port}"),
            ca_file,
        };
        (redis, port)
    }
}
