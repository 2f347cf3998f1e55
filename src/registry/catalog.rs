//! Reading the catalog: version listings and pack searches (one query builder, `store::catalog`,
//! behind both), a pack's versions with their tags, pack names; and the cache of finished catalog
//! bodies, which every write invalidates.

use std::collections::HashMap;
use std::future::Future;

use bytes::Bytes;

use super::tags::{self, TagEntry};
use super::{Pack, Registry, RegistryError, VersionRow};
use crate::domain::{PackName, PackState};
use crate::store::catalog;
use crate::store::packs;
use crate::store::versions;

pub use crate::store::catalog::{
    Column, Filters, Order, SortField, Start, Term, TextFilter, TextMatch, VersionCursor,
    VersionSort,
};

/// One page of a listing: the rows, how many match in all, and whether more follow.
#[derive(Debug, Clone)]
pub struct Page {
    pub rows: Vec<VersionRow>,
    pub count: u64,
    pub more: bool,
}

/// Which versions of a pack to show.
#[derive(Debug, Clone, Default)]
pub struct VersionFilter {
    /// Only versions for this cloud (or for `all`).
    pub cloud: Option<String>,
    pub layer: Option<crate::domain::Layer>,
    /// Empty means active and deprecated.
    pub states: Vec<PackState>,
}

/// A pack as its versions describe it: the newest listed version for its display fields, every
/// shown version with its document, and the tag list.
#[derive(Debug, Clone)]
pub struct PackView {
    pub display: VersionRow,
    pub versions: Vec<(VersionRow, Pack)>,
    pub tags: Vec<TagEntry>,
}

impl PackView {
    /// The union of the shown versions' clouds, in first-seen order.
    pub fn cloud_types(&self) -> Vec<String> {
        let mut clouds: Vec<String> = Vec::new();
        for (row, _) in &self.versions {
            for cloud in row.cloud_types.iter() {
                if !clouds.contains(cloud) {
                    clouds.push(cloud.clone());
                }
            }
        }
        clouds
    }
}

impl Registry {
    /// Versions matching `filters`, sorted by `sort` then (name, version), from `start`.
    pub async fn list_versions(
        &self,
        filters: &Filters,
        sort: &[(VersionSort, bool)],
        start: Start<'_>,
        limit: u32,
    ) -> Result<Page, RegistryError> {
        let reader = self.inner.db.reader();
        let mut rows = catalog::list_versions(reader, filters, sort, start, limit + 1).await?;
        let count = catalog::count_versions(reader, filters).await?;
        Ok(page(&mut rows, count, limit))
    }

    /// One row per pack (its latest listed version) matching `filters`, sorted, from `offset`.
    pub async fn search_packs(
        &self,
        filters: &Filters,
        sort: &[(SortField, bool)],
        offset: u64,
        limit: u32,
    ) -> Result<Page, RegistryError> {
        let reader = self.inner.db.reader();
        let mut rows = catalog::search_packs(reader, filters, sort, offset, limit + 1).await?;
        let count = catalog::count_packs(reader, filters).await?;
        Ok(page(&mut rows, count, limit))
    }

    /// The documents of `rows`, by uid (for listings that show values).
    pub async fn documents(
        &self,
        rows: &[VersionRow],
    ) -> Result<HashMap<String, Pack>, RegistryError> {
        let uids: Vec<&str> = rows.iter().map(|row| row.uid.as_str()).collect();
        Ok(versions::load_documents(self.inner.db.reader(), &uids).await?)
    }

    /// Pack names after `last`, in order, at most `limit`.
    pub async fn pack_names(
        &self,
        last: Option<&PackName>,
        limit: u32,
    ) -> Result<Vec<String>, RegistryError> {
        Ok(packs::list_pack_names(self.inner.db.reader(), last, limit).await?)
    }

    /// The versions of `pack` that `filter` shows, with their documents and tags.
    pub async fn pack_view(
        &self,
        pack: &PackName,
        filter: &VersionFilter,
    ) -> Result<PackView, RegistryError> {
        let rows = self.versions(pack).await?;
        let states = if filter.states.is_empty() {
            vec![PackState::Active, PackState::Deprecated]
        } else {
            filter.states.clone()
        };
        let cloud = filter.cloud.as_deref().filter(|c| *c != "all");
        let visible: Vec<VersionRow> = rows
            .iter()
            .filter(|row| states.contains(&row.state))
            .filter(|row| {
                cloud.is_none_or(|c| row.cloud_types.iter().any(|t| t == c || t == "all"))
            })
            .filter(|row| filter.layer.is_none_or(|l| row.layer == l))
            .cloned()
            .collect();
        if visible.is_empty() {
            return Err(RegistryError::NoneVisible(pack.clone()));
        }
        self.view_of(visible).await
    }

    /// One version as a pack view (for routes that name a version).
    pub async fn version_view(&self, row: VersionRow) -> Result<PackView, RegistryError> {
        self.view_of(vec![row]).await
    }

    async fn view_of(&self, visible: Vec<VersionRow>) -> Result<PackView, RegistryError> {
        // The pack is described by its newest listed version (or newest at all).
        let display = visible
            .iter()
            .filter(|r| r.state.is_listed())
            .max_by(|a, b| a.version.cmp(&b.version))
            .or_else(|| visible.iter().max_by(|a, b| a.version.cmp(&b.version)))
            .cloned()
            .ok_or_else(|| RegistryError::Corrupt("a pack view without versions".to_owned()))?;
        let mut documents: HashMap<String, Pack> =
            versions::load_documents_for_pack(self.inner.db.reader(), &display.pack_name).await?;
        let tags = tags::tag_entries(&visible);
        let mut shown = Vec::with_capacity(visible.len());
        for row in visible {
            let pack = documents.remove(&row.uid).ok_or_else(|| {
                RegistryError::Corrupt(format!("version {} has no document", row.uid))
            })?;
            shown.push((row, pack));
        }
        Ok(PackView {
            display,
            versions: shown,
            tags,
        })
    }

    /// A finished catalog body for `key` (a digest of the request): cached, or computed once for
    /// all concurrent callers. Any write makes every cached body stale.
    pub async fn cached_catalog<E: From<sqlx::Error>>(
        &self,
        key: [u8; 32],
        compute: impl Future<Output = Result<Bytes, E>>,
    ) -> Result<Bytes, E> {
        self.inner
            .caches
            .catalog
            .get_or_compute(&self.inner.db, key, compute)
            .await
    }
}

fn page(rows: &mut Vec<VersionRow>, count: u64, limit: u32) -> Page {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Page {
        rows: std::mem::take(rows),
        count,
        more,
    }
}
