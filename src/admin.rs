//! Commands that administer a registry's storage directly (no server needed): API tokens,
//! verification and garbage collection.

use clap::{Args, Subcommand};

use crate::app::{StartupError, open_storage};
use crate::auth::{Scope, generate_token, token_hash};
use crate::config::StorageConfig;
use crate::domain::PackPatterns;
use crate::store::blobs::BlobStore;
use crate::store::db::{Db, DbError};
use crate::store::{blob_records, integrity, now_millis, oci, tokens};

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
    #[command(flatten)]
    pub storage: StorageConfig,
}

#[derive(Debug, Clone, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once (only its sha256 is stored).
    Create {
        #[arg(long)]
        name: String,
        /// read, write or admin (each includes the ones before it).
        #[arg(long)]
        scope: Scope,
        /// The packs it may write: comma-separated globs such as `cni-*,team-*` (default: all).
        #[arg(long, default_value = "*")]
        packs: PackPatterns,
    },
    /// List tokens (names, scopes, dates; never the tokens).
    List,
    /// Revoke a token by name.
    Revoke {
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("a token named {0:?} already exists")]
    NameTaken(String),
    #[error("no active token is named {0:?}")]
    NoSuchToken(String),
    #[error("the token name must be 1 to 100 visible characters")]
    BadName,
    #[error("no randomness available: {0}")]
    Random(String),
    #[error("blob store: {0}")]
    Io(String),
    #[error("verification found {0} problem(s)")]
    Problems(usize),
}

pub async fn token(args: TokenArgs) -> Result<(), AdminError> {
    let (db, _) = open_storage(&args.storage).await?;
    let outcome = match args.command {
        TokenCommand::Create { name, scope, packs } => {
            if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
                return Err(AdminError::BadName);
            }
            let token = generate_token().map_err(|e| AdminError::Random(e.to_string()))?;
            if !tokens::create(db.writer(), &name, &token_hash(&token), scope, &packs).await? {
                return Err(AdminError::NameTaken(name));
            }
            // The one time the token is shown.
            println!("{token}");
            eprintln!(
                "token {name:?} created with scope {scope} for packs {packs}; it is not shown again"
            );
            Ok(())
        }
        TokenCommand::List => {
            for record in tokens::list(db.reader()).await? {
                let state = match record.revoked_at {
                    Some(at) => format!("revoked {}", crate::domain::time::rfc3339(at)),
                    None => "active".to_owned(),
                };
                println!(
                    "{}\t{}\tpacks {}\tcreated {}\t{state}",
                    record.name,
                    record.scope,
                    record.packs,
                    crate::domain::time::rfc3339(record.created_at)
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { name } => {
            if tokens::revoke(db.writer(), &name).await? {
                eprintln!("token {name:?} revoked");
                Ok(())
            } else {
                Err(AdminError::NoSuchToken(name))
            }
        }
    };
    db.close().await;
    outcome
}

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub storage: StorageConfig,
}

/// `packyard verify`: re-hashes every blob and checks every reference in the database. Prints each
/// problem; fails when there is any. Blob files no row mentions (left by an interrupted publish)
/// are listed as notes: `gc` removes them.
pub async fn verify(args: VerifyArgs) -> Result<(), AdminError> {
    let (db, blobs) = open_storage(&args.storage).await?;
    let mut problems = Vec::new();
    let records = blob_records::all_blobs(db.reader()).await?;
    let mut claimed_only = 0;
    for record in &records {
        match blobs.rehash(&record.digest).await {
            // Claimed by an upload that never finished (blob_records::reserve) and referenced by
            // nothing: not a problem, gc removes the row.
            Ok(None)
                if !integrity::is_referenced(db.reader(), &record.digest.to_string()).await? =>
            {
                claimed_only += 1;
            }
            Ok(None) => problems.push(format!(
                "blob {} is recorded but its file is missing",
                record.digest
            )),
            Ok(Some((actual, _))) if actual != record.digest => problems.push(format!(
                "blob {} is corrupted: its content hashes to {actual}",
                record.digest
            )),
            Ok(Some((_, size))) if size != record.size => problems.push(format!(
                "blob {} is {size} bytes, the database says {}",
                record.digest, record.size
            )),
            Ok(Some(_)) => {}
            Err(e) => problems.push(format!("blob {} cannot be read: {e}", record.digest)),
        }
    }
    problems.extend(integrity::broken_references(db.reader()).await?);
    problems.extend(integrity::unreadable_documents(db.reader()).await?);
    problems.extend(oci::corrupt_manifests(db.reader()).await?);
    let recorded: std::collections::BTreeSet<_> = records.iter().map(|r| r.digest).collect();
    let files = blobs
        .list()
        .await
        .map_err(|e| AdminError::Io(e.to_string()))?;
    let unreferenced = files
        .iter()
        .filter(|(digest, _)| !recorded.contains(digest))
        .count();
    db.close().await;
    for problem in &problems {
        println!("problem: {problem}");
    }
    if claimed_only > 0 {
        println!(
            "note: {claimed_only} unreferenced blob row(s) without content (an interrupted upload); gc removes them"
        );
    }
    if unreferenced > 0 {
        println!(
            "note: {unreferenced} blob file(s) have no database row (an interrupted upload or publish); gc removes them"
        );
    }
    if problems.is_empty() {
        println!(
            "verified {} blob(s) and every reference: no problems",
            records.len()
        );
        Ok(())
    } else {
        Err(AdminError::Problems(problems.len()))
    }
}

#[derive(Debug, Clone, Args)]
pub struct GcArgs {
    #[command(flatten)]
    pub storage: StorageConfig,
    /// Blobs written or referenced within this many seconds are kept, so an in-flight publish
    /// never loses one.
    #[arg(long, default_value_t = 3600)]
    pub grace_secs: u64,
    /// List what would be removed without removing it.
    #[arg(long)]
    pub dry_run: bool,
    /// Also remove OCI manifests no tag names (and no index lists, and that refer to no
    /// subject), pushed before the grace period.
    #[arg(long)]
    pub delete_untagged: bool,
    /// OCI upload sessions untouched for this many seconds are removed (as `serve` expires them).
    #[arg(long, env = "PACKYARD_UPLOAD_SESSION_TTL_SECS", default_value_t = crate::config::DEFAULT_UPLOAD_SESSION_TTL_SECS)]
    pub upload_session_ttl_secs: u64,
}

/// `packyard gc`: removes blobs no version references (and nobody uploaded directly), blob files
/// no row mentions, and abandoned uploads, all older than the grace period.
pub async fn gc(args: GcArgs) -> Result<(), AdminError> {
    let (db, blobs) = open_storage(&args.storage).await?;
    let grace = std::time::Duration::from_secs(args.grace_secs);
    let cutoff = Cutoff {
        millis: crate::store::now_millis() - i64::try_from(grace.as_millis()).unwrap_or(i64::MAX),
        time: std::time::SystemTime::now() - grace,
    };
    let oci = collect_oci(&db, &blobs, &args, cutoff).await?;
    let removed_blobs = remove_collectable_blobs(&db, &blobs, cutoff, args.dry_run).await?;
    let removed_files = remove_orphan_files(&db, &blobs, cutoff, args.dry_run).await?;
    let removed_uploads = if args.dry_run {
        0
    } else {
        blobs
            .remove_uploads_older_than(cutoff.time)
            .await
            .map_err(io_error)?
    };
    db.close().await;
    eprintln!(
        "gc: removed {removed_blobs} blob(s), {removed_files} unreferenced file(s), {removed_uploads} abandoned upload(s), {} untagged OCI manifest(s), {} unreferenced OCI blob link(s), {} expired OCI upload session(s)",
        oci.manifests, oci.links, oci.sessions
    );
    Ok(())
}

/// What gc may touch: written or referenced before this moment (the same instant, two clocks).
#[derive(Debug, Clone, Copy)]
struct Cutoff {
    /// Epoch milliseconds, compared with `blobs.touched_at`.
    millis: i64,
    /// Compared with blob files' modification times.
    time: std::time::SystemTime,
}

/// What gc removed of the OCI API's data.
#[derive(Debug, Default)]
struct OciCollected {
    manifests: usize,
    links: usize,
    sessions: usize,
}

/// The OCI API's garbage: untagged manifests (when asked), blob links no manifest of their
/// repository references (their blobs then become collectable like any other), and upload
/// sessions past their time to live (with their files, and session files no row knows).
async fn collect_oci(
    db: &Db,
    blobs: &BlobStore,
    args: &GcArgs,
    cutoff: Cutoff,
) -> Result<OciCollected, AdminError> {
    let mut collected = OciCollected::default();
    if args.delete_untagged {
        for (repository, digest) in oci::untagged_manifests(db.reader(), cutoff.millis).await? {
            if args.dry_run {
                println!("would remove untagged manifest {repository}@{digest}");
                continue;
            }
            let mut transaction = db.begin().await?;
            if oci::delete_manifest(&mut transaction, &repository, &digest).await? {
                println!("removed untagged manifest {repository}@{digest}");
                collected.manifests += 1;
            }
            transaction.commit().await?;
        }
    }
    for (repository, digest) in oci::unreferenced_links(db.reader(), cutoff.millis).await? {
        if args.dry_run {
            println!("would remove blob link {repository} -> {digest}");
            continue;
        }
        // Under the digest lock a manifest push claims its blobs with (see
        // `oci::claim_for_manifest`).
        let mut transaction = db.begin().await?;
        let key = digest.to_string();
        blob_records::lock_digest(&mut transaction, db.backend(), &key).await?;
        let removed = oci::delete_link_if_unreferenced(
            &mut *transaction,
            &repository,
            &digest,
            cutoff.millis,
        )
        .await?;
        transaction.commit().await?;
        if removed {
            collected.links += 1;
        }
    }
    let ttl = i64::try_from(args.upload_session_ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let expired = oci::expired_uploads(db.reader(), now_millis().saturating_sub(ttl)).await?;
    for id in &expired {
        if args.dry_run {
            println!("would remove expired upload session {id}");
            continue;
        }
        oci::delete_upload(db.writer(), id).await?;
        blobs.remove_session(id).await.map_err(io_error)?;
        collected.sessions += 1;
    }
    // Files of sessions whose row is gone (a crash between the two), once past the grace period.
    let recorded: std::collections::BTreeSet<String> =
        oci::all_uploads(db.reader()).await?.into_iter().collect();
    for (id, modified) in blobs.session_files().await.map_err(io_error)? {
        if recorded.contains(&id) || modified >= cutoff.time || args.dry_run {
            continue;
        }
        if blobs.remove_session(&id).await.map_err(io_error)? {
            collected.sessions += 1;
        }
    }
    Ok(collected)
}

fn io_error(error: std::io::Error) -> AdminError {
    AdminError::Io(error.to_string())
}

/// Blob rows (and their content) that nothing references and nobody touched since the cutoff.
async fn remove_collectable_blobs(
    db: &Db,
    blobs: &BlobStore,
    cutoff: Cutoff,
    dry_run: bool,
) -> Result<usize, AdminError> {
    let mut removed = 0;
    for digest in integrity::collectable_blobs(db.reader(), cutoff.millis).await? {
        if dry_run {
            println!("would remove blob {digest}");
            continue;
        }
        // Under the digest lock writers take to claim a blob (blob_records::reserve): re-check,
        // delete the rows, delete the content, then commit. A crash before the commit leaves the
        // rows (the next gc finds them again, content or not).
        let mut transaction = db.begin().await?;
        blob_records::lock_digest(&mut transaction, db.backend(), &digest).await?;
        match integrity::delete_if_collectable(&mut transaction, &digest, cutoff.millis).await {
            Ok(true) => {
                if let Ok(parsed) = digest.parse() {
                    blobs.remove(&parsed).await.map_err(io_error)?;
                }
                transaction.commit().await?;
                println!("removed blob {digest}");
                removed += 1;
            }
            Ok(false) => {}
            // A concurrent publish took a reference (PostgreSQL's foreign key): keep the blob.
            Err(e) => tracing::info!(%digest, error = %e, "blob kept: referenced meanwhile"),
        }
    }
    Ok(removed)
}

/// Blob files (or objects) without a database row, older than the cutoff: left by an interrupted
/// upload or publish.
async fn remove_orphan_files(
    db: &Db,
    blobs: &BlobStore,
    cutoff: Cutoff,
    dry_run: bool,
) -> Result<usize, AdminError> {
    let recorded: std::collections::BTreeSet<_> = blob_records::all_blobs(db.reader())
        .await?
        .into_iter()
        .map(|r| r.digest)
        .collect();
    let mut removed = 0;
    for (digest, modified) in blobs.list().await.map_err(io_error)? {
        if recorded.contains(&digest) || modified >= cutoff.time {
            continue;
        }
        if dry_run {
            println!("would remove unreferenced file {digest}");
            continue;
        }
        // A writer may claim this content right now: re-check for a row under the digest lock.
        let key = digest.to_string();
        let mut transaction = db.begin().await?;
        blob_records::lock_digest(&mut transaction, db.backend(), &key).await?;
        let claimed = integrity::is_recorded(&mut *transaction, &key).await?;
        if !claimed && blobs.remove(&digest).await.map_err(io_error)? {
            println!("removed unreferenced file {digest}");
            removed += 1;
        }
        transaction.commit().await?;
    }
    Ok(removed)
}
