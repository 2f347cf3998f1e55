//! A pack's files, read from a `tar.gz` archive or a folder with the safety limits an upload needs,
//! and written back as a deterministic archive. Each entry is hashed while it is read; small ones
//! stay in memory, the rest are written to a spill file, so a pack that unpacks to hundreds of
//! megabytes costs a bounded amount of memory.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use sha2::{Digest as _, Sha256};

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

/// The largest file a pack may hold that is read as text (pack.json, values.yaml, schema.yaml,
/// presets.yaml, README.md, manifests).
pub const MAX_TEXT_FILE: u64 = 16 << 20;
/// Entries up to this size stay in memory...
const KEEP_IN_MEMORY: u64 = 1 << 20;
/// ...while the entries in memory total at most this; everything else is spilled to disk.
const MEMORY_BUDGET: u64 = 16 << 20;
const COPY_BUFFER: usize = 64 << 10;

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

impl FilesError {
    /// The server's own failure (reading or writing its files), not the archive's fault.
    pub fn is_io(&self) -> bool {
        matches!(self, FilesError::Io { .. })
    }
}

/// Why a file could not be read as text.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error("not UTF-8 text: {0}")]
    NotUtf8(#[from] std::str::Utf8Error),
    #[error("larger than the {} MiB a pack's text files may be", MAX_TEXT_FILE >> 20)]
    TooLarge,
    #[error("cannot be read: {0}")]
    Io(#[from] io::Error),
}

/// A file on disk holding an entry's bytes; removed when the last holder drops it (spill files
/// are named `*.part` in the upload staging area, which start-up and `gc` also clear).
#[derive(Debug)]
pub struct SpillFile {
    path: PathBuf,
    /// False for a folder's own file (never removed).
    owned: bool,
}

impl SpillFile {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SpillFile {
    fn drop(&mut self) {
        if self.owned {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Where an entry's bytes are.
#[derive(Debug, Clone)]
pub enum Content {
    Memory(Arc<[u8]>),
    File(Arc<SpillFile>),
}

impl Content {
    /// A reader over the bytes.
    pub fn reader(&self) -> io::Result<Box<dyn Read + Send + '_>> {
        Ok(match self {
            Content::Memory(bytes) => Box::new(&bytes[..]),
            Content::File(file) => Box::new(io::BufReader::with_capacity(
                COPY_BUFFER,
                std::fs::File::open(&file.path)?,
            )),
        })
    }

    /// The path of the spill file, when the bytes are on disk.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Content::Memory(_) => None,
            Content::File(file) => Some(&file.path),
        }
    }
}

/// One file of a pack: its size, its sha256 and where its bytes are.
#[derive(Debug, Clone)]
pub struct Entry {
    pub size: u64,
    pub sha256: [u8; 32],
    pub content: Content,
}

impl Entry {
    fn in_memory(bytes: Vec<u8>) -> Entry {
        Entry {
            size: bytes.len() as u64,
            sha256: Sha256::digest(&bytes).into(),
            content: Content::Memory(Arc::from(bytes)),
        }
    }

    /// The whole content, read from disk if it was spilled; refused above [`MAX_TEXT_FILE`].
    pub fn bytes(&self) -> Result<Cow<'_, [u8]>, TextError> {
        match &self.content {
            Content::Memory(bytes) => Ok(Cow::Borrowed(bytes)),
            Content::File(file) => {
                if self.size > MAX_TEXT_FILE {
                    return Err(TextError::TooLarge);
                }
                Ok(Cow::Owned(std::fs::read(&file.path)?))
            }
        }
    }

    /// The first `n` bytes (to recognise a file's type without reading it whole).
    pub fn head(&self, n: usize) -> io::Result<Vec<u8>> {
        let mut head = Vec::with_capacity(n.min(self.size as usize));
        self.content
            .reader()?
            .take(n as u64)
            .read_to_end(&mut head)?;
        Ok(head)
    }
}

/// Files by normalised relative path (`pack.json`, `manifests/calico.yaml`), in path order.
#[derive(Debug, Clone, Default)]
pub struct PackFiles {
    files: BTreeMap<String, Entry>,
}

impl PartialEq for PackFiles {
    fn eq(&self, other: &PackFiles) -> bool {
        self.files.len() == other.files.len()
            && self
                .files
                .iter()
                .zip(&other.files)
                .all(|((a, x), (b, y))| a == b && x.sha256 == y.sha256)
    }
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

/// Copies `reader` (at most `limit + 1` bytes) into memory or a spill file in `spill_dir`,
/// hashing on the way. Returns the entry, or None when it exceeded `limit`.
fn take_entry(
    reader: &mut impl Read,
    declared: u64,
    limit: u64,
    spill_dir: &Path,
    memory_used: &mut u64,
) -> io::Result<Option<Entry>> {
    let in_memory = declared <= KEEP_IN_MEMORY && *memory_used + declared <= MEMORY_BUDGET;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; COPY_BUFFER];
    let mut size: u64 = 0;
    let mut limited = reader.take(limit + 1);
    if in_memory {
        let mut bytes = Vec::with_capacity(declared as usize);
        limited.read_to_end(&mut bytes)?;
        if bytes.len() as u64 > limit {
            return Ok(None);
        }
        *memory_used += bytes.len() as u64;
        return Ok(Some(Entry::in_memory(bytes)));
    }
    let spill = SpillFile {
        path: spill_dir.join(format!("pack-{}.part", random_name())),
        owned: true,
    };
    let mut file = io::BufWriter::with_capacity(COPY_BUFFER, std::fs::File::create(&spill.path)?);
    loop {
        let read = limited.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        size += read as u64;
        if size > limit {
            return Ok(None);
        }
        hasher.update(&buffer[..read]);
        file.write_all(&buffer[..read])?;
    }
    file.flush()?;
    Ok(Some(Entry {
        size,
        sha256: hasher.finalize().into(),
        content: Content::File(Arc::new(spill)),
    }))
}

fn random_name() -> String {
    let mut bytes = [0u8; 12];
    // A collision only fails the create, never overwrites (names are per pack and random).
    let _ = getrandom::fill(&mut bytes);
    hex::encode(bytes)
}

impl PackFiles {
    /// Adds a file held in memory under `path` (a chart the registry resolved from an `oci://`
    /// reference in `pack.json`, listed under that reference).
    pub fn with_entry(mut self, path: String, bytes: Vec<u8>) -> PackFiles {
        self.files.insert(path, Entry::in_memory(bytes));
        self
    }

    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.files.get(path)
    }

    pub fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// The file as UTF-8 text (read from disk if it was spilled).
    pub fn text(&self, path: &str) -> Option<Result<Cow<'_, str>, TextError>> {
        let entry = self.files.get(path)?;
        Some(entry.bytes().and_then(|bytes| {
            match bytes {
                Cow::Borrowed(b) => Ok(Cow::Borrowed(std::str::from_utf8(b)?)),
                Cow::Owned(b) => String::from_utf8(b)
                    .map(Cow::Owned)
                    .map_err(|e| TextError::NotUtf8(e.utf8_error())),
            }
        }))
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.files.iter().map(|(p, e)| (p.as_str(), e))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Bytes the entries kept in memory hold.
    pub fn memory_bytes(&self) -> u64 {
        self.files
            .values()
            .filter(|e| matches!(e.content, Content::Memory(_)))
            .map(|e| e.size)
            .sum()
    }

    fn insert(&mut self, path: String, entry: Entry) -> Result<(), FilesError> {
        if path.is_empty() {
            return Ok(());
        }
        if self.files.contains_key(&path) {
            return Err(FilesError::Duplicate(path));
        }
        self.files.insert(path, entry);
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
                .map(|(path, entry)| (path[prefix.len()..].to_owned(), entry))
                .collect(),
        }
    }

    /// Reads a `tar.gz`: only regular files and directories, bounded in entries, per-file size and
    /// total unpacked size (so a gzip bomb stops at the limit). Entries are hashed as they stream
    /// by; large ones go to spill files in `spill_dir`, removed when the files are dropped.
    pub fn from_archive(
        reader: impl Read,
        limits: &Limits,
        spill_dir: &Path,
    ) -> Result<PackFiles, FilesError> {
        let unreadable = |e: io::Error| FilesError::Unreadable(e.to_string());
        let mut archive = tar::Archive::new(GzDecoder::new(reader));
        let mut files = PackFiles::default();
        let mut total: u64 = 0;
        let mut memory_used: u64 = 0;
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
            let too_large = || FilesError::FileTooLarge {
                path: path.clone(),
                limit: limits.max_file_size,
            };
            if declared > limits.max_file_size {
                return Err(too_large());
            }
            if total + declared > limits.max_total_size {
                return Err(FilesError::TooLarge(limits.max_total_size));
            }
            let taken = take_entry(
                &mut entry,
                declared,
                limits.max_file_size,
                spill_dir,
                &mut memory_used,
            )
            .map_err(|e| match e.kind() {
                io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => unreadable(e),
                _ => FilesError::Io {
                    path: spill_dir.display().to_string(),
                    source: e,
                },
            })?;
            let taken = taken.ok_or_else(too_large)?;
            total += taken.size;
            if total > limits.max_total_size {
                return Err(FilesError::TooLarge(limits.max_total_size));
            }
            files.insert(path, taken)?;
        }
        if entries_seen == 0 {
            return Err(FilesError::Unreadable("the archive is empty".to_owned()));
        }
        Ok(files.strip_common_folder())
    }

    /// Reads a pack folder, refusing symbolic links and special files like an archive would. Small
    /// files are read; larger ones are hashed and read from the folder when needed.
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
                    let normalised = normalise(&relative, limits)?;
                    let entry = if size <= KEEP_IN_MEMORY {
                        Entry::in_memory(std::fs::read(&path).map_err(io_error(&path))?)
                    } else {
                        let mut hasher = Sha256::new();
                        let mut file = std::fs::File::open(&path).map_err(io_error(&path))?;
                        let mut buffer = vec![0u8; COPY_BUFFER];
                        loop {
                            let read = file.read(&mut buffer).map_err(io_error(&path))?;
                            if read == 0 {
                                break;
                            }
                            hasher.update(&buffer[..read]);
                        }
                        Entry {
                            size,
                            sha256: hasher.finalize().into(),
                            content: Content::File(Arc::new(SpillFile {
                                path: path.clone(),
                                owned: false,
                            })),
                        }
                    };
                    files.insert(normalised, entry)?;
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
        for (path, entry) in &self.files {
            let mut header = tar::Header::new_ustar();
            header.set_size(entry.size);
            header.set_mode(0o644);
            header.set_mtime(0);
            header.set_uid(0);
            header.set_gid(0);
            header.set_entry_type(tar::EntryType::Regular);
            builder.append_data(
                &mut header,
                format!("{folder}/{path}"),
                entry.content.reader()?,
            )?;
        }
        builder.into_inner()?.finish()
    }
}

impl FromIterator<(String, Vec<u8>)> for PackFiles {
    fn from_iter<T: IntoIterator<Item = (String, Vec<u8>)>>(iter: T) -> Self {
        PackFiles {
            files: iter
                .into_iter()
                .map(|(path, bytes)| (path, Entry::in_memory(bytes)))
                .collect(),
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
        let spill = std::env::temp_dir();
        let back = PackFiles::from_archive(archive.as_slice(), &Limits::default(), &spill).unwrap();
        assert_eq!(back, files);
    }

    #[test]
    fn large_entries_spill_to_disk_and_are_removed_with_the_files() {
        let big = vec![7u8; 3 << 20];
        let files: PackFiles = [
            ("pack.json".to_owned(), b"{}".to_vec()),
            ("blob.bin".to_owned(), big.clone()),
        ]
        .into_iter()
        .collect();
        let archive = files.to_archive("p").unwrap();
        let spill = tempfile::tempdir().unwrap();
        let back =
            PackFiles::from_archive(archive.as_slice(), &Limits::default(), spill.path()).unwrap();
        let entry = back.get("blob.bin").unwrap();
        assert!(
            entry.content.path().is_some(),
            "a 3 MiB entry stays on disk"
        );
        assert_eq!(entry.sha256, <[u8; 32]>::from(Sha256::digest(&big)));
        assert!(back.memory_bytes() < 1024);
        assert_eq!(std::fs::read_dir(spill.path()).unwrap().count(), 1);
        drop(back);
        assert_eq!(std::fs::read_dir(spill.path()).unwrap().count(), 0);
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
