//! A pack's files, read from a `tar.gz` archive or a folder with the safety limits an upload needs,
//! and written back as a deterministic archive.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::Path;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

/// Limits on what an archive or folder may hold. Anything beyond them is refused.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_entries: usize,
    pub max_file_size: u64,
    pub max_total_size: u64,
    pub max_path_len: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_entries: 10_000,
            max_file_size: 256 << 20,
            max_total_size: 512 << 20,
            max_path_len: 512,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("the archive is not a readable tar.gz: {0}")]
    Unreadable(String),
    #[error("the archive has more than {0} entries")]
    TooManyEntries(usize),
    #[error("{path}: larger than the limit of {limit} bytes")]
    FileTooLarge { path: String, limit: u64 },
    #[error("the unpacked content exceeds the limit of {0} bytes")]
    TooLarge(u64),
    #[error("{path}: {reason}")]
    UnsafePath { path: String, reason: &'static str },
    #[error("{path}: {kind} entries are not allowed in a pack")]
    ForbiddenEntry { path: String, kind: &'static str },
    #[error("{0}: appears more than once")]
    Duplicate(String),
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: io::Error },
}

/// Files by normalised relative path (`pack.json`, `manifests/calico.yaml`), in path order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackFiles {
    files: BTreeMap<String, Vec<u8>>,
}

/// Normalises an archive path: strips `./`, refuses absolute paths, `..`, backslashes and NUL.
fn normalise(path: &str, limits: &Limits) -> Result<String, FilesError> {
    let unsafe_path = |reason| FilesError::UnsafePath {
        path: path.to_owned(),
        reason,
    };
    if path.len() > limits.max_path_len {
        return Err(unsafe_path("the path is too long"));
    }
    if path.starts_with('/') {
        return Err(unsafe_path("absolute paths are not allowed"));
    }
    if path.contains('\\') || path.contains('\0') {
        return Err(unsafe_path("backslashes and NUL are not allowed in paths"));
    }
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(unsafe_path("'..' is not allowed in paths")),
            other => parts.push(other),
        }
    }
    Ok(parts.join("/"))
}

impl PackFiles {
    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    pub fn text(&self, path: &str) -> Option<Result<&str, std::str::Utf8Error>> {
        self.get(path).map(std::str::from_utf8)
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(p, b)| (p.as_str(), b.as_slice()))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    fn insert(&mut self, path: String, bytes: Vec<u8>) -> Result<(), FilesError> {
        if path.is_empty() {
            return Ok(());
        }
        if self.files.contains_key(&path) {
            return Err(FilesError::Duplicate(path));
        }
        self.files.insert(path, bytes);
        Ok(())
    }

    /// A pack archive is usually the pack's folder (`cni-calico-3.24.6/pack.json`); when
    /// `pack.json` is not at the root and every path shares one first component, strip it.
    fn strip_common_folder(self) -> PackFiles {
        if self.files.contains_key("pack.json") {
            return self;
        }
        let first = |path: &str| path.split_once('/').map(|(head, _)| head.to_owned());
        let Some(Some(folder)) = self.files.keys().next().map(|p| first(p)) else {
            return self;
        };
        if !self
            .files
            .keys()
            .all(|p| first(p).as_deref() == Some(&folder))
        {
            return self;
        }
        let prefix = format!("{folder}/");
        PackFiles {
            files: self
                .files
                .into_iter()
                .map(|(path, bytes)| (path[prefix.len()..].to_owned(), bytes))
                .collect(),
        }
    }

    /// Reads a `tar.gz`: only regular files and directories, bounded in entries, per-file size and
    /// total unpacked size (so a gzip bomb stops at the limit).
    pub fn from_archive(reader: impl Read, limits: &Limits) -> Result<PackFiles, FilesError> {
        let unreadable = |e: io::Error| FilesError::Unreadable(e.to_string());
        let mut archive = tar::Archive::new(GzDecoder::new(reader));
        let mut files = PackFiles::default();
        let mut total: u64 = 0;
        let mut entries_seen = 0usize;
        for entry in archive.entries().map_err(unreadable)? {
            let mut entry = entry.map_err(unreadable)?;
            entries_seen += 1;
            if entries_seen > limits.max_entries {
                return Err(FilesError::TooManyEntries(limits.max_entries));
            }
            let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let path = normalise(&raw_path, limits)?;
            let forbidden = |kind| FilesError::ForbiddenEntry {
                path: raw_path.clone(),
                kind,
            };
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {}
                tar::EntryType::Directory => continue,
                tar::EntryType::Symlink => return Err(forbidden("symbolic link")),
                tar::EntryType::Link => return Err(forbidden("hard link")),
                tar::EntryType::Char => return Err(forbidden("character device")),
                tar::EntryType::Block => return Err(forbidden("block device")),
                tar::EntryType::Fifo => return Err(forbidden("FIFO")),
                tar::EntryType::GNUSparse => return Err(forbidden("sparse file")),
                _ => return Err(forbidden("special")),
            }
            let declared = entry.header().size().map_err(unreadable)?;
            if declared > limits.max_file_size {
                return Err(FilesError::FileTooLarge {
                    path,
                    limit: limits.max_file_size,
                });
            }
            let mut bytes = Vec::with_capacity(usize::try_from(declared.min(1 << 20)).unwrap_or(0));
            let read = (&mut entry)
                .take(limits.max_file_size + 1)
                .read_to_end(&mut bytes)
                .map_err(unreadable)? as u64;
            if read > limits.max_file_size {
                return Err(FilesError::FileTooLarge {
                    path,
                    limit: limits.max_file_size,
                });
            }
            total += read;
            if total > limits.max_total_size {
                return Err(FilesError::TooLarge(limits.max_total_size));
            }
            files.insert(path, bytes)?;
        }
        if entries_seen == 0 {
            return Err(FilesError::Unreadable("the archive is empty".to_owned()));
        }
        Ok(files.strip_common_folder())
    }

    /// Reads a pack folder, refusing symbolic links and special files like an archive would.
    pub fn from_dir(root: &Path, limits: &Limits) -> Result<PackFiles, FilesError> {
        let io_error = |path: &Path| {
            let path = path.display().to_string();
            move |source| FilesError::Io {
                path: path.clone(),
                source,
            }
        };
        let mut files = PackFiles::default();
        let mut total = 0u64;
        let mut pending = vec![root.to_path_buf()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).map_err(io_error(&dir))? {
                let entry = entry.map_err(io_error(&dir))?;
                let path = entry.path();
                let relative = path
                    .strip_prefix(root)
                    .map(|p| p.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/"))
                    .unwrap_or_default();
                let kind = entry.file_type().map_err(io_error(&path))?;
                if kind.is_symlink() {
                    return Err(FilesError::ForbiddenEntry {
                        path: relative,
                        kind: "symbolic link",
                    });
                } else if kind.is_dir() {
                    pending.push(path);
                } else if kind.is_file() {
                    if files.len() >= limits.max_entries {
                        return Err(FilesError::TooManyEntries(limits.max_entries));
                    }
                    let size = entry.metadata().map_err(io_error(&path))?.len();
                    if size > limits.max_file_size {
                        return Err(FilesError::FileTooLarge {
                            path: relative,
                            limit: limits.max_file_size,
                        });
                    }
                    total += size;
                    if total > limits.max_total_size {
                        return Err(FilesError::TooLarge(limits.max_total_size));
                    }
                    let bytes = std::fs::read(&path).map_err(io_error(&path))?;
                    let normalised = normalise(&relative, limits)?;
                    files.insert(normalised, bytes)?;
                } else {
                    return Err(FilesError::ForbiddenEntry {
                        path: relative,
                        kind: "special",
                    });
                }
            }
        }
        Ok(files)
    }

    /// A deterministic `tar.gz` of the files under `folder/`: path order, mode 0644, owner 0, time 0,
    /// so the same files always give the same bytes.
    pub fn to_archive(&self, folder: &str) -> io::Result<Vec<u8>> {
        let encoder = GzEncoder::new(Vec::new(), Compression::default());
        let mut builder = tar::Builder::new(encoder);
        builder.mode(tar::HeaderMode::Deterministic);
        for (path, bytes) in &self.files {
            let mut header = tar::Header::new_ustar();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(0);
            header.set_uid(0);
            header.set_gid(0);
            header.set_entry_type(tar::EntryType::Regular);
            builder.append_data(&mut header, format!("{folder}/{path}"), bytes.as_slice())?;
        }
        builder.into_inner()?.finish()
    }
}

impl FromIterator<(String, Vec<u8>)> for PackFiles {
    fn from_iter<T: IntoIterator<Item = (String, Vec<u8>)>>(iter: T) -> Self {
        PackFiles {
            files: iter.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_round_trip_strips_the_pack_folder_and_is_deterministic() {
        let files: PackFiles = [
            ("pack.json".to_owned(), b"{}".to_vec()),
            ("manifests/a.yaml".to_owned(), b"kind: A".to_vec()),
        ]
        .into_iter()
        .collect();
        let archive = files.to_archive("demo-1.0.0").unwrap();
        assert_eq!(archive, files.to_archive("demo-1.0.0").unwrap());
        let back = PackFiles::from_archive(archive.as_slice(), &Limits::default()).unwrap();
        assert_eq!(back, files);
    }

    #[test]
    fn normalise_refuses_escapes() {
        let limits = Limits::default();
        assert_eq!(normalise("./a//b/./c", &limits).unwrap(), "a/b/c");
        for bad in ["/etc/passwd", "a/../../b", "..", "a\\b"] {
            assert!(normalise(bad, &limits).is_err(), "{bad}");
        }
    }
}
