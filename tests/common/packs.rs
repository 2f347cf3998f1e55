//! Pack fixtures: small real packs built in memory, and hand-made archives for attack tests.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use packyard::pack::files::PackFiles;

/// A 1x1 transparent PNG.
pub const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// A pack under construction: path → content.
#[derive(Clone)]
pub struct TestPack {
    pub name: String,
    pub version: String,
    files: Vec<(String, Vec<u8>)>,
}

impl TestPack {
    /// A clean manifest pack (no lint findings): one templated manifest, schema, presets, README, logo.
    pub fn new(name: &str, version: &str) -> TestPack {
        Self::with_pack_json(
            name,
            version,
            serde_json::json!({
                "name": name,
                "displayName": format!("Pack {name}"),
                "version": version,
                "layer": "addon",
                "addonType": "monitoring",
                "cloudTypes": ["aws", "vsphere"],
                "annotations": {"source": "community"},
                "kubeManifests": ["manifests/app.yaml"],
            }),
        )
    }

    pub fn with_pack_json(name: &str, version: &str, pack_json: serde_json::Value) -> TestPack {
        TestPack {
            name: name.to_owned(),
            version: version.to_owned(),
            files: vec![
                ("pack.json".into(), serde_json::to_vec_pretty(&pack_json).unwrap()),
                (
                    "values.yaml".into(),
                    b"pack:\n  namespace: demo\nmanifests:\n  app:\n    replicas: 2\n    image: nginx\n".to_vec(),
                ),
                (
                    "manifests/app.yaml".into(),
                    b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  replicas: {{ .Values.replicas | quote }}\n  image: {{ .Values.image }}\n".to_vec(),
                ),
                (
                    "schema.yaml".into(),
                    b"manifests.app.replicas:\n  schema: '{{ required | format \"${number:[1-10]}\" | hints \"How many\" }}'\n".to_vec(),
                ),
                (
                    "presets.yaml".into(),
                    b"presets:\n  - name: big\n    displayName: Big\n    group: Size\n    remove: []\n    add: |\n      manifests:\n        app:\n          replicas: 5\n".to_vec(),
                ),
                ("README.md".into(), format!("# {name}\n\nA test pack.\n").into_bytes()),
                ("logo.png".into(), TINY_PNG.to_vec()),
            ],
        }
    }

    /// Adds or replaces a file.
    pub fn file(mut self, path: &str, content: impl AsRef<[u8]>) -> TestPack {
        self.files.retain(|(p, _)| p != path);
        self.files
            .push((path.to_owned(), content.as_ref().to_vec()));
        self
    }

    pub fn without(mut self, path: &str) -> TestPack {
        self.files.retain(|(p, _)| p != path);
        self
    }

    /// Edits pack.json.
    pub fn pack_json(mut self, edit: impl FnOnce(&mut serde_json::Value)) -> TestPack {
        let index = self
            .files
            .iter()
            .position(|(p, _)| p == "pack.json")
            .expect("pack.json");
        let mut value: serde_json::Value = serde_json::from_slice(&self.files[index].1).unwrap();
        edit(&mut value);
        self.files[index].1 = serde_json::to_vec_pretty(&value).unwrap();
        self
    }

    pub fn files(&self) -> PackFiles {
        self.files.iter().cloned().collect()
    }

    /// The pack as Palette's archive: a tar.gz of its folder.
    pub fn archive(&self) -> Vec<u8> {
        self.files()
            .to_archive(&format!("{}-{}", self.name, self.version))
            .unwrap()
    }

    /// Writes the pack as a folder under `parent`, returning the folder.
    pub fn write_to(&self, parent: &std::path::Path) -> std::path::PathBuf {
        let folder = parent.join(format!("{}-{}", self.name, self.version));
        for (path, content) in &self.files {
            let target = folder.join(path);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(target, content).unwrap();
        }
        folder
    }
}

/// One entry of a hand-made tar archive.
pub struct RawEntry {
    pub path: Vec<u8>,
    pub kind: tar::EntryType,
    pub content: Vec<u8>,
    pub link: Option<Vec<u8>>,
}

impl RawEntry {
    pub fn file(path: &str, content: impl AsRef<[u8]>) -> RawEntry {
        RawEntry {
            path: path.as_bytes().to_vec(),
            kind: tar::EntryType::Regular,
            content: content.as_ref().to_vec(),
            link: None,
        }
    }

    pub fn special(path: &str, kind: tar::EntryType, link: Option<&str>) -> RawEntry {
        RawEntry {
            path: path.as_bytes().to_vec(),
            kind,
            content: Vec::new(),
            link: link.map(|l| l.as_bytes().to_vec()),
        }
    }
}

/// A tar.gz written header by header, so names the tar crate would refuse (`..`, absolute paths)
/// and special entries can be made.
pub fn raw_tar_gz(entries: &[RawEntry]) -> Vec<u8> {
    let mut tar = Vec::new();
    for entry in entries {
        let mut header = tar::Header::new_old();
        {
            let raw = header.as_old_mut();
            raw.name[..entry.path.len()].copy_from_slice(&entry.path);
            if let Some(link) = &entry.link {
                raw.linkname[..link.len()].copy_from_slice(link);
            }
        }
        header.set_size(entry.content.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(entry.kind);
        header.set_cksum();
        tar.extend_from_slice(header.as_bytes());
        tar.extend_from_slice(&entry.content);
        let padding = (512 - entry.content.len() % 512) % 512;
        tar.extend(std::iter::repeat_n(0u8, padding));
    }
    tar.extend(std::iter::repeat_n(0u8, 1024));
    gzip(&tar)
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A small chart's `.tgz` as `helm package` makes it (`<name>/...` inside): a ConfigMap named after
/// the release with `replicas` from the values.
pub fn chart_archive(name: &str, version: &str) -> Vec<u8> {
    let files = [
        (
            "Chart.yaml",
            format!("apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"1.0\"\ndescription: A chart pushed with Helm\n"),
        ),
        ("values.yaml", "replicas: 2\n".to_owned()),
        (
            "templates/configmap.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  replicas: \"{{ .Values.replicas }}\"\n".to_owned(),
        ),
    ];
    let entries: Vec<RawEntry> = files
        .iter()
        .map(|(path, content)| RawEntry::file(&format!("{name}/{path}"), content))
        .collect();
    raw_tar_gz(&entries)
}
