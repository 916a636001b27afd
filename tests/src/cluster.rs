//! A private Redis Cluster of three primaries: three `redis-server --cluster-enabled yes` on free
//! ports, joined with `redis-cli --cluster create`, ready when every node says
//! `cluster_state:ok`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use pulseboard_server::redis_server::{free_port, RedisServer};

/// Three primaries sharing the 16,384 slots.
pub struct Cluster {
    /// The nodes (`nodes[i].url()`).
    pub nodes: Vec<RedisServer>,
    dir: PathBuf,
}

impl Cluster {
    /// Starts and joins the three nodes; fails the test if the cluster is not ok in time.
    pub async fn start() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "pulseboard-cluster-{}-{}",
            std::process::id(),
            free_port().unwrap()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut nodes = Vec::new();
        for i in 0..3 {
            let conf = dir.join(format!("nodes-{i}.conf"));
            let args = [
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                conf.to_str().unwrap(),
                "--cluster-node-timeout",
                "2000",
            ];
            let node = RedisServer::start_with_args(args.iter().map(|a| (*a).to_owned()).collect())
                .await
                .expect("start a cluster node");
            nodes.push(node);
        }
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| n.url().trim_start_matches("redis://").to_owned())
            .collect();
        let created = std::process::Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .expect("redis-cli runs (apt-get install redis-tools)");
        assert!(
            created.status.success(),
            "redis-cli --cluster create: {}",
            String::from_utf8_lossy(&created.stdout)
        );
        let cluster = Self { nodes, dir };
        cluster.wait_ok().await;
        cluster
    }

    /// A client that routes by slot, for writing test data.
    pub async fn conn(&self) -> redis::cluster_async::ClusterConnection {
        let urls: Vec<String> = self.nodes.iter().map(RedisServer::url).collect();
        redis::cluster::ClusterClient::new(urls)
            .unwrap()
            .get_async_connection()
            .await
            .unwrap()
    }

    async fn wait_ok(&self) {
        let deadline = Instant::now() + crate::PATIENCE;
        for node in &self.nodes {
            let client = redis::Client::open(node.url()).unwrap();
            loop {
                let info: Option<String> = async {
                    let mut conn = client.get_multiplexed_async_connection().await.ok()?;
                    redis::cmd("CLUSTER")
                        .arg("INFO")
                        .query_async(&mut conn)
                        .await
                        .ok()
                }
                .await;
                if info.is_some_and(|i| i.contains("cluster_state:ok")) {
                    break;
                }
                assert!(Instant::now() < deadline, "the cluster never became ok");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
