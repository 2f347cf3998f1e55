//! Upload sessions: started by `POST`, fed by `PATCH` chunks in order (or one stream), closed by
//! `PUT ?digest=`, resumable across restarts until they expire. The bytes go to a session file
//! in the blob store's staging area; closing hashes it and moves it into the store.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::OciError;
use crate::domain::{Digest, RepositoryName};
use crate::registry::error::PutError;
use crate::registry::{BlobRecord, Caller, Registry, RegistryError};
use crate::store::blobs::Expectation;
use crate::store::{now_millis, oci};

/// A session as the client sees it: where it is and how many bytes it holds.
#[derive(Debug, Clone)]
pub struct UploadSession {
    pub id: String,
    pub repository: RepositoryName,
    pub size: u64,
}

/// A chunk's place as `Content-Range: <start>-<end>` states it (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRange {
    pub start: u64,
    pub end: u64,
}

/// Releases a session's request slot when the request ends, however it ends.
struct SessionGuard<'a> {
    registry: &'a Registry,
    id: String,
}

impl Drop for SessionGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut busy) = self.registry.inner.oci.busy_sessions.lock() {
            busy.remove(&self.id);
        }
    }
}

/// Bytes a request is appending, counted in the registry's in-progress total until it ends.
struct Staging<'a> {
    total: &'a AtomicU64,
    added: u64,
}

impl Staging<'_> {
    /// Counts `len` more bytes; returns what requests in progress have added in all.
    fn add(&mut self, len: u64) -> u64 {
        self.added += len;
        self.total.fetch_add(len, Ordering::AcqRel) + len
    }
}

impl Drop for Staging<'_> {
    fn drop(&mut self) {
        self.total.fetch_sub(self.added, Ordering::AcqRel);
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The error a chunk meets when the sessions would hold more than `--max-staged-bytes`.
#[derive(Debug, thiserror::Error)]
#[error(
    "upload sessions hold {limit} bytes, the most this registry stages (--max-staged-bytes); finish or cancel sessions, or retry later"
)]
struct StagedFull {
    limit: u64,
}

fn new_session_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// Whether `id` could be a session id at all (anything else is unknown without a lookup).
fn plausible(id: &str) -> bool {
    id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// A session whose file is gone (gc expired it meanwhile) is unknown; other failures are what
/// they are.
fn vanished_or(error: PutError, id: &str) -> RegistryError {
    match error {
        PutError::Io(e) if e.kind() == std::io::ErrorKind::NotFound => {
            OciError::UploadUnknown(id.to_owned()).into()
        }
        other => other.into(),
    }
}

impl Registry {
    /// Starts an upload session in `repository`.
    pub async fn start_upload(
        &self,
        repository: &RepositoryName,
        caller: &Caller,
    ) -> Result<UploadSession, RegistryError> {
        self.may_push(caller, repository)?;
        let max = self.inner.oci_config.max_upload_sessions;
        let open =
            oci::open_uploads_of(self.inner.db.writer(), &caller.name, self.live_cutoff()).await?;
        if u64::try_from(open).unwrap_or(0) >= max {
            return Err(OciError::TooManyRequests(format!(
                "{} holds {open} open upload sessions, the most one credential may \
                 (--max-upload-sessions); finish or cancel one first",
                caller.name
            ))
            .into());
        }
        let id = new_session_id();
        self.inner.blobs.create_session(&id).await?;
        let storage = self.storage_name(repository);
        oci::insert_upload(self.inner.db.writer(), &id, &storage, &caller.name).await?;
        Ok(UploadSession {
            id,
            repository: repository.clone(),
            size: 0,
        })
    }

    /// Sessions touched before this (epoch ms) have expired.
    fn live_cutoff(&self) -> i64 {
        let ttl =
            i64::try_from(self.inner.oci_config.upload_session_ttl.as_millis()).unwrap_or(i64::MAX);
        now_millis().saturating_sub(ttl)
    }

    /// A live session of `repository` (unknown, expired, or of another repository: unknown).
    pub async fn upload_status(
        &self,
        repository: &RepositoryName,
        id: &str,
    ) -> Result<UploadSession, RegistryError> {
        let unknown = || RegistryError::from(OciError::UploadUnknown(id.to_owned()));
        if !plausible(id) {
            return Err(unknown());
        }
        let found = oci::find_upload(self.inner.db.reader(), id, self.live_cutoff()).await?;
        if found != Some(self.storage_name(repository)) {
            return Err(unknown());
        }
        let size = self
            .inner
            .blobs
            .session_size(id)
            .await?
            .ok_or_else(unknown)?;
        Ok(UploadSession {
            id: id.to_owned(),
            repository: repository.clone(),
            size,
        })
    }

    /// Takes the session's request slot: a second request on a busy session is told where the
    /// session ends, as for a chunk out of order.
    fn claim_session(&self, session: &UploadSession) -> Result<SessionGuard<'_>, RegistryError> {
        let mut busy = self
            .inner
            .oci
            .busy_sessions
            .lock()
            .map_err(|_| RegistryError::Busy("the upload session table is unavailable"))?;
        if !busy.insert(session.id.clone()) {
            return Err(OciError::RangeInvalid { size: session.size }.into());
        }
        Ok(SessionGuard {
            registry: self,
            id: session.id.clone(),
        })
    }

    /// Appends a chunk (`range` when the client stated one: it must start where the session
    /// ends) and returns the session after it.
    pub async fn append_upload<S, E>(
        &self,
        repository: &RepositoryName,
        id: &str,
        range: Option<ChunkRange>,
        body: S,
        caller: &Caller,
    ) -> Result<UploadSession, RegistryError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.may_push(caller, repository)?;
        let mut session = self.upload_status(repository, id).await?;
        let _slot = self.claim_session(&session)?;
        // Read again under the slot: a request that just finished may have grown it.
        session.size = self.inner.blobs.session_size(id).await?.unwrap_or(0);
        let length = match range {
            Some(range) if range.start != session.size || range.end < range.start => {
                return Err(OciError::RangeInvalid { size: session.size }.into());
            }
            Some(range) => Some(range.end - range.start + 1),
            None => None,
        };
        // Every chunk is counted against --max-staged-bytes as it arrives: what the sessions
        // held when this request started, plus what requests in progress have added since.
        let limit = self.inner.oci_config.max_staged_bytes;
        let recorded =
            u64::try_from(oci::staged_bytes(self.inner.db.reader(), self.live_cutoff()).await?)
                .unwrap_or(0);
        let total = &self.inner.oci.staging;
        let mut staging = Staging { total, added: 0 };
        let body = body.map(move |chunk| {
            let chunk = chunk.map_err(Into::into)?;
            let in_progress = staging.add(chunk.len() as u64);
            if recorded.saturating_add(in_progress) > limit {
                return Err(Box::new(StagedFull { limit }) as BoxError);
            }
            Ok(chunk)
        });
        let size = self
            .inner
            .blobs
            .append_session(id, session.size, length, body, self.inner.max_blob_size)
            .await
            .map_err(|e| match (e, range) {
                (PutError::SizeMismatch { expected, actual }, Some(range)) => {
                    OciError::UploadInvalid(format!(
                        "the chunk is {actual} bytes; its Content-Range {}-{} says {expected}",
                        range.start, range.end
                    ))
                    .into()
                }
                (PutError::Body(e), _) if e.is::<StagedFull>() => {
                    OciError::TooManyRequests(e.to_string()).into()
                }
                (e, _) => vanished_or(e, id),
            })?;
        oci::touch_upload(self.inner.db.writer(), id, size).await?;
        session.size = size;
        Ok(session)
    }

    /// Closes a session with its last chunk (possibly empty): the content must hash to `digest`.
    /// On a digest or size mismatch nothing is stored and the session is gone.
    pub async fn finish_upload<S, E>(
        &self,
        repository: &RepositoryName,
        id: &str,
        digest: Digest,
        range: Option<ChunkRange>,
        body: S,
        caller: &Caller,
    ) -> Result<BlobRecord, RegistryError>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.append_upload(repository, id, range, body, caller)
            .await?;
        let session = self.upload_status(repository, id).await?;
        let _slot = self.claim_session(&session)?;
        oci::delete_upload(self.inner.db.writer(), id).await?;
        let expect = Expectation {
            digest: Some(digest),
            size: None,
            max_size: self.inner.max_blob_size,
        };
        let staged = self
            .inner
            .blobs
            .stage_session(id, expect)
            .await
            .map_err(|e| vanished_or(e, id))?;
        self.link_staged(repository, staged).await
    }

    /// Abandons a session.
    pub async fn cancel_upload(
        &self,
        repository: &RepositoryName,
        id: &str,
        caller: &Caller,
    ) -> Result<(), RegistryError> {
        self.may_push(caller, repository)?;
        let session = self.upload_status(repository, id).await?;
        let _slot = self.claim_session(&session)?;
        oci::delete_upload(self.inner.db.writer(), id).await?;
        self.inner.blobs.remove_session(id).await?;
        Ok(())
    }
}
