//! Seeds a registry with generated packs through the real publish path (pack reader, blob store,
//! one transaction per version), for bench/catalog.
//!
//! cargo run --release --example seed_catalog -- DATA_DIR DATABASE_URL|- FIRST_PACK PACKS VERSIONS

use packyard::config::StorageConfig;
use packyard::pack::files::PackFiles;
use packyard::registry::{Registry, RegistryConfig};
use tokio::task::JoinSet;

const LAYERS: [&str; 4] = ["addon", "cni", "csi", "os"];
const CLOUDS: [&[&str]; 4] = [
    &["aws", "azure"],
    &["all"],
    &["vsphere"],
    &["gcp", "aws", "openstack"],
];

fn pack_files(index: usize, version: usize) -> PackFiles {
    let name = format!("bench-pack-{index:05}");
    let pack_json = serde_json::json!({
        "name": name,
        "displayName": format!("Bench Pack {index}"),
        "version": format!("1.{version}.0"),
        "layer": LAYERS[index % LAYERS.len()],
        "addonType": if index.is_multiple_of(4) { "monitoring" } else { "" },
        "cloudTypes": CLOUDS[index % CLOUDS.len()],
        "annotations": {"source": if index.is_multiple_of(2) { "community" } else { "spectrocloud" }},
        "kubeManifests": ["manifests/app.yaml"],
    });
    [
        (
            "pack.json".to_owned(),
            serde_json::to_vec(&pack_json).unwrap_or_default(),
        ),
        (
            "values.yaml".to_owned(),
            format!("manifests:\n  app:\n    replicas: {}\n", version % 5 + 1).into_bytes(),
        ),
        (
            "manifests/app.yaml".to_owned(),
            b"kind: ConfigMap\ndata:\n  replicas: {{ .Values.replicas | quote }}\n".to_vec(),
        ),
        (
            "README.md".to_owned(),
            format!("# Bench pack {index}\n").into_bytes(),
        ),
        ("logo.png".to_owned(), b"\x89PNG\r\n\x1a\nbench".to_vec()),
    ]
    .into_iter()
    .collect()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, data_dir, database_url, first, packs, versions] = args.as_slice() else {
        return Err("usage: seed_catalog DATA_DIR DATABASE_URL|- FIRST_PACK PACKS VERSIONS".into());
    };
    // The blob store follows the server's variables, so a seeded catalog can live on S3 too.
    let storage = StorageConfig {
        data_dir: data_dir.into(),
        database_url: (database_url != "-").then(|| database_url.clone()),
        blob_store: std::env::var("PACKYARD_BLOB_STORE").ok(),
        s3_endpoint: std::env::var("PACKYARD_S3_ENDPOINT").ok(),
    };
    let (first, packs, versions): (usize, usize, usize) =
        (first.parse()?, packs.parse()?, versions.parse()?);
    let (db, blobs) = packyard::app::open_storage(&storage).await?;
    let registry = Registry::new(db, blobs, RegistryConfig::local());
    let mut tasks = JoinSet::new();
    let started = std::time::Instant::now();
    for index in first..first + packs {
        for version in 0..versions {
            // Publishes overlap their blob writes; the database serialises the commits.
            while tasks.len() >= 8 {
                if let Some(result) = tasks.join_next().await {
                    result??;
                }
            }
            let registry = registry.clone();
            tasks.spawn(async move {
                let files = pack_files(index, version);
                registry
                    .publish_files(files, "bench".to_owned(), "bench")
                    .await?;
                Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
            });
        }
    }
    while let Some(result) = tasks.join_next().await {
        result??;
    }
    let count = packs * versions;
    eprintln!(
        "seeded {count} versions in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
