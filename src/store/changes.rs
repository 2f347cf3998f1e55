//! Telling the other replicas what changed. On PostgreSQL every write is announced with
//! `pg_notify` on one channel (payload: the pack name), and every server LISTENs on it to forget its
//! cached facts about that pack. Tag resolutions move when a pack gains or changes a version, so
//! replicas must not serve them from a cache after another replica's write. SQLite has one server,
//! so there is nothing to announce.

use std::time::Duration;

use sqlx::postgres::PgListener;

use super::db::{Backend, Db};

/// The notification channel.
pub const CHANNEL: &str = "packyard_changes";

/// What a listener learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// This pack's versions changed.
    Pack(String),
    /// The connection dropped: notifications may have been missed, so forget everything.
    Unknown,
}

/// Announces a change of `pack` to every replica (PostgreSQL only).
pub async fn announce(db: &Db, pack: &str) -> Result<(), sqlx::Error> {
    if db.backend() != Backend::Postgres {
        return Ok(());
    }
    // A subquery, so the Any driver sees an integer column rather than pg_notify's void.
    sqlx::query("SELECT 1 FROM (SELECT pg_notify($1, $2)) AS notified")
        .bind(CHANNEL)
        .bind(pack)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// Listens for changes on the PostgreSQL database at `url` until the process ends, calling
/// `on_change` for each. Reconnects after errors (and reports `Change::Unknown` then).
pub async fn follow(url: String, on_change: impl Fn(Change) + Send + 'static) {
    loop {
        match listen(&url, &on_change).await {
            Ok(()) => tracing::warn!("change listener: connection lost; reconnecting"),
            Err(error) => tracing::warn!(%error, "change listener failed; reconnecting"),
        }
        on_change(Change::Unknown);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn listen(url: &str, on_change: &impl Fn(Change)) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    // Anything written while we were not listening is unknown to us.
    on_change(Change::Unknown);
    while let Some(notification) = listener.try_recv().await? {
        on_change(Change::Pack(notification.payload().to_owned()));
    }
    Ok(())
}
