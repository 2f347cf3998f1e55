//! Caches in front of the blob read path. Content under a digest never changes, and a pack's
//! reference to a blob goes away only through `packyard gc` (another process): records are
//! re-checked after `RECORD_TTL`, and the blob routes `forget` a record whose file has gone. So a
//! blob GET needs almost no database queries and, for small blobs, no file system access.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use quick_cache::sync::Cache;
use quick_cache::{Equivalent, Weighter};

use crate::domain::{Digest, PackName};
use crate::store::blob_records::{self, BlobRecord};
use crate::store::blobs::{BlobStore, Span};
use crate::store::db::Db;

/// Blobs up to this size are kept in memory once read.
pub const SMALL_BLOB: u64 = 1 << 20;
/// The small-blob content cache's bound.
pub const CONTENT_CACHE_BYTES: u64 = 48 << 20;
/// The blob-record cache's bound.
pub const RECORD_CACHE_BYTES: u64 = 16 << 20;
/// How long a found reference is trusted before the database is asked again (how long a blob `gc`
/// removed may still be served from memory).
const RECORD_TTL: Duration = Duration::from_secs(30);

#[derive(Clone)]
struct ContentWeight;

impl Weighter<Digest, Bytes> for ContentWeight {
    fn weight(&self, _key: &Digest, value: &Bytes) -> u64 {
        value.len() as u64 + 64
    }
}

type RecordKey = (PackName, Digest);

/// A [`RecordKey`] made of borrowed parts, so a lookup allocates nothing. It hashes exactly as the
/// tuple does (each part in order).
struct RecordQuery<'a>(&'a PackName, &'a Digest);

impl Hash for RecordQuery<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
        self.1.hash(state);
    }
}

impl Equivalent<RecordKey> for RecordQuery<'_> {
    fn equivalent(&self, key: &RecordKey) -> bool {
        *self.0 == key.0 && *self.1 == key.1
    }
}

type RecordEntry = (Arc<BlobRecord>, Instant);

#[derive(Clone)]
struct RecordWeight;

impl Weighter<RecordKey, RecordEntry> for RecordWeight {
    fn weight(&self, key: &RecordKey, value: &RecordEntry) -> u64 {
        let media = value.0.media_type.as_ref().map_or(0, |m| m.as_str().len());
        (key.0.as_str().len() + media + 160) as u64
    }
}

pub struct BlobCache {
    records: Cache<RecordKey, RecordEntry, RecordWeight>,
    contents: Cache<Digest, Bytes, ContentWeight>,
}

impl std::fmt::Debug for BlobCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlobCache")
    }
}

impl Default for BlobCache {
    fn default() -> Self {
        BlobCache::new()
    }
}

impl BlobCache {
    pub fn new() -> BlobCache {
        BlobCache {
            records: Cache::with_weighter(100_000, RECORD_CACHE_BYTES, RecordWeight),
            contents: Cache::with_weighter(4096, CONTENT_CACHE_BYTES, ContentWeight),
        }
    }

    /// The blob `digest` if `pack` references it. Only found references are cached (a missing one
    /// may appear with the next upload).
    pub async fn find(
        &self,
        db: &Db,
        pack: &PackName,
        digest: &Digest,
    ) -> Result<Option<Arc<BlobRecord>>, sqlx::Error> {
        if let Some((found, checked)) = self.records.get(&RecordQuery(pack, digest))
            && checked.elapsed() < RECORD_TTL
        {
            return Ok(Some(found));
        }
        let found = blob_records::find_pack_blob(db.reader(), pack, digest)
            .await?
            .map(Arc::new);
        match &found {
            Some(record) => self
                .records
                .insert((pack.clone(), *digest), (record.clone(), Instant::now())),
            None => self.forget(pack, digest),
        }
        Ok(found)
    }

    /// Bytes held by the record cache and the content cache.
    pub fn bytes(&self) -> (u64, u64) {
        (self.records.weight(), self.contents.weight())
    }

    /// Drops what is cached for `pack`'s blob `digest` (its file has gone).
    pub fn forget(&self, pack: &PackName, digest: &Digest) {
        self.records.remove(&RecordQuery(pack, digest));
        self.contents.remove(digest);
    }

    /// The whole content of a small blob, from memory after the first read.
    pub async fn small_content(
        &self,
        blobs: &BlobStore,
        record: &BlobRecord,
    ) -> std::io::Result<Bytes> {
        if let Some(found) = self.contents.get(&record.digest) {
            return Ok(found);
        }
        let content = blobs
            .read_whole(
                &record.digest,
                Span {
                    start: 0,
                    len: record.size,
                },
            )
            .await?;
        if content.len() as u64 == record.size {
            self.contents.insert(record.digest, content.clone());
        }
        Ok(content)
    }
}
