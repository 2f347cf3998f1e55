//! Lifecycle changes: a version's state (active, deprecated, disabled, deleted).

use super::{Caller, Registry, RegistryError, VersionRow, record_pack_change};
use crate::domain::{EventAction, PackName, PackState, Version};
use crate::store::versions::{self, Event};

impl Registry {
    /// Sets the state of `pack@version` for `caller`, records who did it, and refreshes the pack's
    /// latest version.
    pub async fn change_state(
        &self,
        pack: &PackName,
        version: &Version,
        state: PackState,
        caller: &Caller,
    ) -> Result<VersionRow, RegistryError> {
        caller.may_write(pack)?;
        let row = self.set_state(pack, version, state, &caller.name).await?;
        tracing::info!(%pack, %version, %state, "pack state changed");
        Ok(row)
    }

    /// Sets the state of `pack@version` as `actor` (the command line acts as the admin).
    async fn set_state(
        &self,
        pack: &PackName,
        version: &Version,
        state: PackState,
        actor: &str,
    ) -> Result<VersionRow, RegistryError> {
        let mut transaction = self.inner.db.begin().await?;
        let Some(row) = versions::find_by_version(&mut *transaction, pack, version).await? else {
            return Err(RegistryError::VersionUnknown(format!("{pack}@{version}")));
        };
        if row.state != state {
            versions::set_state(&mut *transaction, &row.uid, state).await?;
            let event = Event {
                pack,
                version,
                action: EventAction::State,
                actor,
                message: None,
                old_digest: None,
                new_digest: None,
                old_state: Some(row.state),
                new_state: Some(state),
            };
            versions::insert_event(&mut *transaction, &event).await?;
            record_pack_change(&mut transaction, pack).await?;
        }
        let updated = versions::find_by_uid(&mut *transaction, &row.uid).await?;
        transaction.commit().await?;
        self.written(pack);
        updated.ok_or_else(|| RegistryError::Corrupt("a version vanished during its update".into()))
    }
}
