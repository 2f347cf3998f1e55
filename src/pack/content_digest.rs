//! The canonical content digest of a pack version: independent of archive order, timestamps,
//! owners and modes.
//!
//! `sha256( for each file in byte order of its path: path "\n" hex(sha256(content)) "\n" )`

use sha2::{Digest as _, Sha256};

use super::files::PackFiles;
use crate::domain::Digest;

pub fn content_digest(files: &PackFiles) -> Digest {
    let mut outer = Sha256::new();
    for (path, entry) in files.iter() {
        outer.update(path.as_bytes());
        outer.update(b"\n");
        outer.update(hex::encode(entry.sha256).as_bytes());
        outer.update(b"\n");
    }
    Digest::from_bytes(outer.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depends_on_paths_and_content_only() {
        let a: PackFiles = [
            ("b.txt".to_owned(), b"2".to_vec()),
            ("a.txt".to_owned(), b"1".to_vec()),
        ]
        .into_iter()
        .collect();
        let same: PackFiles = [
            ("a.txt".to_owned(), b"1".to_vec()),
            ("b.txt".to_owned(), b"2".to_vec()),
        ]
        .into_iter()
        .collect();
        let renamed: PackFiles = [
            ("a.txt".to_owned(), b"1".to_vec()),
            ("c.txt".to_owned(), b"2".to_vec()),
        ]
        .into_iter()
        .collect();
        assert_eq!(content_digest(&a), content_digest(&same));
        assert_ne!(content_digest(&a), content_digest(&renamed));
    }
}
