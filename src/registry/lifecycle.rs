//! Lifecycle changes: a version's state (active, deprecated, disabled, deleted).

use crate::domain::PackState;
use crate::store::db::Db;
use crate::store::versions::{self, Event, VersionRow};

use super::record_pack_change;

#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("{pack}@{version} is not published")]
    NotFound { pack: String, version: String },
    #[error("database: {0}")]
    Database(String),
}

impl From<sqlx::Error> for LifecycleError {
    fn from(error: sqlx::Error) -> Self {
        LifecycleError::Database(error.to_string())
    }
}

impl From<crate::store::db::DbError> for LifecycleError {
    fn from(error: crate::store::db::DbError) -> Self {
        LifecycleError::Database(error.to_string())
    }
}

/// Sets the state of `pack@version`, records who did it, and refreshes the pack's latest version.
pub async fn change_state(
    db: &Db,
    pack: &str,
    version: &str,
    state: PackState,
    actor: &str,
) -> Result<VersionRow, LifecycleError> {
    let mut transaction = db.begin().await?;
    let Some(row) = versions::find_by_version(&mut *transaction, pack, version).await? else {
        return Err(LifecycleError::NotFound {
            pack: pack.to_owned(),
            version: version.to_owned(),
        });
    };
    if row.state != state {
        versions::set_state(&mut *transaction, &row.uid, state).await?;
        versions::insert_event(
            &mut *transaction,
            &Event {
                pack,
                version,
                action: "state",
                actor,
                message: None,
                old_digest: None,
                new_digest: None,
                old_state: Some(row.state.as_str()),
                new_state: Some(state.as_str()),
            },
        )
        .await?;
        record_pack_change(&mut transaction, pack).await?;
    }
    let updated = versions::find_by_uid(&mut *transaction, &row.uid).await?;
    transaction.commit().await?;
    updated.ok_or_else(|| LifecycleError::Database("version vanished during the update".to_owned()))
}
