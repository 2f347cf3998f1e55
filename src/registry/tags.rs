//! Tags: what a client may ask for (a version, a `<group>__<version>` tag, a parent tag such as
//! `3.24.x`, or `latest`) and the tag list Palette shows, parent tags included.

use std::collections::BTreeMap;

use super::RegistryError;
use crate::domain::{PackName, PackState, TagRef, Version};
use crate::store::versions::VersionRow;

/// The group prefix of a tag (`lts__`), lowercased, or "" for ungrouped versions.
fn group_prefix(group: Option<&str>) -> String {
    match group.map(str::trim).filter(|g| !g.is_empty()) {
        Some(group) => format!("{}__", group.to_ascii_lowercase()),
        None => String::new(),
    }
}

/// Versions grouped by their tag prefix, listed ones only (they alone count for parent tags and
/// `latest`).
fn listed_by_group(rows: &[VersionRow]) -> BTreeMap<String, Vec<&VersionRow>> {
    let mut groups: BTreeMap<String, Vec<&VersionRow>> = BTreeMap::new();
    for row in rows.iter().filter(|row| row.state.is_listed()) {
        groups
            .entry(group_prefix(row.group.as_deref()))
            .or_default()
            .push(row);
    }
    groups
}

fn newest_in<'r>(candidates: &[&'r VersionRow], tag: &TagRef) -> Option<&'r VersionRow> {
    tag.resolve(candidates.iter().map(|row| &row.version))
        .and_then(|found| candidates.iter().find(|row| &row.version == found))
        .copied()
}

/// Resolves `tag` among `rows` (all versions of one pack). An exact version or tag finds disabled
/// versions too (profiles pinned to them keep working); parent tags and `latest` only consider
/// active and deprecated ones. Deleted versions resolve nowhere.
pub fn resolve<'a>(
    pack: &PackName,
    rows: &'a [VersionRow],
    tag: &str,
) -> Result<&'a VersionRow, RegistryError> {
    if rows.is_empty() {
        return Err(RegistryError::PackUnknown(pack.clone()));
    }
    let not_found = || RegistryError::TagUnknown {
        pack: pack.clone(),
        tag: tag.to_owned(),
    };
    if let Some(row) = rows.iter().find(|row| {
        row.state != PackState::Deleted && (row.version.as_str() == tag || row.tag == tag)
    }) {
        return Ok(row);
    }
    let groups = listed_by_group(rows);
    // A grouped parent tag (`lts__1.x`) resolves within its group.
    let (prefix, bare) = match tag.split_once("__") {
        Some((group, rest)) => (format!("{}__", group.to_ascii_lowercase()), rest),
        None => (String::new(), tag),
    };
    let tag_ref = TagRef::parse(bare);
    if matches!(tag_ref, TagRef::Exact(_)) {
        return Err(not_found());
    }
    groups
        .get(&prefix)
        .and_then(|candidates| newest_in(candidates, &tag_ref))
        .ok_or_else(not_found)
}

/// One entry of Palette's `tags[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagEntry {
    pub tag: String,
    pub version: Version,
    pub pack_uid: String,
    pub group: String,
    pub parent_tags: Vec<String>,
}

/// The tag list for `visible` versions (already filtered by state and cloud): one entry per
/// version, then one per parent tag (`3.24.x`, `3.x`) pointing at the version it resolves to.
/// `parentTags` of a version are every parent tag it belongs to (`3.24.5` belongs to `3.24.x` and
/// `3.x` whichever version they resolve to: clients group versions by them); of a parent tag
/// entry, the broader parent tags of its line (`3.x` for `3.24.x`).
pub fn tag_entries(visible: &[VersionRow]) -> Vec<TagEntry> {
    let groups = listed_by_group(visible);
    // parent tag (with group prefix) -> the row it resolves to
    let mut parents: BTreeMap<String, &VersionRow> = BTreeMap::new();
    for (prefix, candidates) in &groups {
        for row in candidates {
            for parent in row.version.parent_tags() {
                let tag = format!("{prefix}{parent}");
                if parents.contains_key(&tag) {
                    continue;
                }
                if let Some(row) = newest_in(candidates, &TagRef::parse(&parent)) {
                    parents.insert(tag, row);
                }
            }
        }
    }
    let existing = |tags: [String; 2], prefix: &str, narrower_than: Option<&str>| {
        tags.into_iter()
            .map(|parent| format!("{prefix}{parent}"))
            .filter(|tag| parents.contains_key(tag))
            .filter(|tag| narrower_than.is_none_or(|of| is_broader(tag, of)))
            .collect::<Vec<String>>()
    };
    let mut entries: Vec<TagEntry> = visible
        .iter()
        .map(|row| TagEntry {
            tag: row.tag.clone(),
            version: row.version.clone(),
            pack_uid: row.uid.clone(),
            group: row.group.clone().unwrap_or_default(),
            parent_tags: existing(
                row.version.parent_tags(),
                &group_prefix(row.group.as_deref()),
                None,
            ),
        })
        .collect();
    for (tag, row) in &parents {
        entries.push(TagEntry {
            tag: tag.clone(),
            version: row.version.clone(),
            pack_uid: row.uid.clone(),
            group: row.group.clone().unwrap_or_default(),
            parent_tags: existing(
                row.version.parent_tags(),
                &group_prefix(row.group.as_deref()),
                Some(tag),
            ),
        });
    }
    entries
}

/// For a parent tag entry, only the broader parents (`3.x` for `3.24.x`) are its parents.
fn is_broader(candidate: &str, of: &str) -> bool {
    candidate.matches('.').count() < of.matches('.').count()
}
