//! Response bodies in the shapes of Palette's API (`packs-api.json`): field names and nesting exactly
//! as its definitions, built from stored versions.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::registry::catalog::PackView;
use crate::registry::tags::TagEntry;
use crate::registry::{Dependency, Pack, Preset, SchemaField, VersionRow};

use super::blob_response::blob_path;

/// `v1PackSchema`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackSchema {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub format: String,
    pub regex: String,
    pub list_options: Vec<String>,
    pub hints: Vec<String>,
    pub required: bool,
    pub readonly: bool,
}

impl From<&SchemaField> for PackSchema {
    fn from(field: &SchemaField) -> Self {
        PackSchema {
            name: field.name.clone(),
            kind: field.type_name().to_owned(),
            format: field.format.clone(),
            regex: field.regex().to_owned(),
            list_options: field.list_options().to_vec(),
            hints: field.hints.clone(),
            required: field.required,
            readonly: field.readonly,
        }
    }
}

/// `v1PackPreset`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackPreset {
    pub name: String,
    pub display_name: String,
    pub group: String,
    pub remove: Vec<String>,
    pub add: String,
}

impl From<&Preset> for PackPreset {
    fn from(preset: &Preset) -> Self {
        PackPreset {
            name: preset.name.clone(),
            display_name: preset.display_name.clone(),
            group: preset.group.clone(),
            remove: preset.remove.clone(),
            add: preset.add.clone(),
        }
    }
}

/// `v1PackDependencyMeta`, extended with the constraint itself (`type`, `layer`, version bounds).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackDependency {
    pub name: String,
    pub version: String,
    pub registry_uid: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_version: Option<String>,
}

impl PackDependency {
    fn new(dependency: &Dependency, registry_uid: &str) -> Self {
        PackDependency {
            name: dependency.pack_name.clone(),
            version: dependency.min_version.clone().unwrap_or_default(),
            registry_uid: registry_uid.to_owned(),
            kind: dependency.kind.clone(),
            layer: dependency.layer.clone(),
            min_version: dependency.min_version.clone().filter(|v| !v.is_empty()),
            max_version: dependency.max_version.clone().filter(|v| !v.is_empty()),
        }
    }
}

/// The annotations a client sees: as published, with the current state written into
/// `system_state` / `disabled` so that lifecycle changes show.
pub fn effective_annotations(row: &VersionRow) -> BTreeMap<String, String> {
    let mut annotations = row.annotations.0.clone();
    annotations.remove("system_state");
    annotations.remove("disabled");
    match row.state {
        crate::domain::PackState::Active => {}
        crate::domain::PackState::Deprecated => {
            annotations.insert("system_state".into(), "deprecated".into());
        }
        crate::domain::PackState::Disabled => {
            annotations.insert("disabled".into(), "true".into());
        }
        crate::domain::PackState::Deleted => {
            annotations.insert("system_state".into(), "deleted".into());
        }
    }
    annotations
}

/// `v1PackUidValues`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackUidValues {
    pub pack_uid: String,
    pub values: String,
    pub schema: Vec<PackSchema>,
    pub presets: Vec<PackPreset>,
    pub readme: String,
    pub annotations: BTreeMap<String, String>,
    pub dependencies: Vec<PackDependency>,
}

impl PackUidValues {
    pub fn new(row: &VersionRow, pack: &Pack, registry_uid: &str) -> Self {
        PackUidValues {
            pack_uid: row.uid.clone(),
            values: pack.values_text.clone(),
            schema: pack.schema.iter().map(PackSchema::from).collect(),
            presets: pack.presets.iter().map(PackPreset::from).collect(),
            readme: pack.readme.clone().unwrap_or_default(),
            annotations: effective_annotations(row),
            dependencies: pack
                .pack_json
                .constraints
                .dependencies
                .iter()
                .map(|d| PackDependency::new(d, registry_uid))
                .collect(),
        }
    }
}

/// `v1PackTags`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackTags {
    pub tag: String,
    pub version: String,
    pub pack_uid: String,
    pub group: String,
    pub parent_tags: Vec<String>,
}

impl From<TagEntry> for PackTags {
    fn from(entry: TagEntry) -> Self {
        PackTags {
            tag: entry.tag,
            version: entry.version.to_string(),
            pack_uid: entry.pack_uid,
            group: entry.group,
            parent_tags: entry.parent_tags,
        }
    }
}

/// `v1PackTagEntity`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackTagEntity {
    pub name: String,
    pub display_name: String,
    pub layer: String,
    pub cloud_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addon_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addon_sub_type: Option<String>,
    pub logo_url: String,
    pub registry_uid: String,
    pub tags: Vec<PackTags>,
    pub pack_values: Vec<PackUidValues>,
}

impl PackTagEntity {
    pub fn new(view: &PackView, registry_uid: &str) -> Self {
        let display = &view.display;
        PackTagEntity {
            name: display.pack_name.to_string(),
            display_name: display.display_name.clone(),
            layer: display.layer.to_string(),
            cloud_types: view.cloud_types(),
            addon_type: display.addon_type.clone(),
            addon_sub_type: display.addon_sub_type.clone(),
            logo_url: logo_url(display),
            registry_uid: registry_uid.to_owned(),
            tags: view.tags.iter().cloned().map(PackTags::from).collect(),
            pack_values: view
                .versions
                .iter()
                .map(|(row, pack)| PackUidValues::new(row, pack, registry_uid))
                .collect(),
        }
    }
}

/// `/v1/{name}/blobs/sha256:{hex}?type=image/png`, or "" when the version has no logo.
pub fn logo_url(row: &VersionRow) -> String {
    row.logo_digest
        .0
        .as_ref()
        .map(|digest| format!("{}?type=image/png", blob_path(&row.pack_name, digest)))
        .unwrap_or_default()
}

/// `v1ListMetaData`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListMeta {
    #[serde(rename = "continue")]
    pub continue_token: String,
    pub count: u64,
    pub limit: u64,
    pub offset: u64,
}

/// `v1ObjectMeta` (the parts packyard fills).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    pub uid: String,
    pub name: String,
    pub creation_timestamp: String,
    pub last_modified_timestamp: String,
    pub annotations: BTreeMap<String, String>,
}

pub use crate::domain::time::rfc3339;

impl ObjectMeta {
    pub fn for_version(row: &VersionRow) -> Self {
        ObjectMeta {
            uid: row.uid.clone(),
            name: row.pack_name.to_string(),
            creation_timestamp: rfc3339(row.created_at),
            last_modified_timestamp: rfc3339(row.updated_at),
            annotations: effective_annotations(row),
        }
    }
}

/// Palette's `v1PackType` of every pack a pack registry serves, whatever its content: `manifest`
/// would mean a manifest embedded in a profile, `helm` a chart from a Helm registry.
pub const PALETTE_PACK_TYPE: &str = "spectro";

/// `v1PackSummarySpec` (the fields packyard fills).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackSummarySpec {
    pub name: String,
    pub display_name: String,
    pub version: String,
    pub layer: String,
    #[serde(rename = "type")]
    pub pack_type: &'static str,
    /// The values document exactly as published.
    pub values: String,
    pub schema: Vec<PackSchema>,
    pub presets: Vec<PackPreset>,
    pub cloud_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addon_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addon_sub_type: Option<String>,
    pub annotations: BTreeMap<String, String>,
    pub digest: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub group: String,
    pub logo_url: String,
    pub registry_uid: String,
}

/// `v1PackSummary`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackSummary {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: PackSummarySpec,
    pub status: serde_json::Map<String, serde_json::Value>,
}

impl PackSummary {
    /// `pack` is the version's document (values, schema, presets); without it those are empty.
    pub fn new(row: &VersionRow, pack: Option<Pack>, registry_uid: &str) -> Self {
        let (values, schema, presets) = match pack {
            Some(pack) => (
                pack.values_text,
                pack.schema.iter().map(PackSchema::from).collect(),
                pack.presets.iter().map(PackPreset::from).collect(),
            ),
            None => (String::new(), Vec::new(), Vec::new()),
        };
        PackSummary {
            api_version: "v1",
            kind: "Pack",
            metadata: ObjectMeta::for_version(row),
            spec: PackSummarySpec {
                name: row.pack_name.to_string(),
                display_name: row.display_name.clone(),
                version: row.version.to_string(),
                layer: row.layer.to_string(),
                pack_type: PALETTE_PACK_TYPE,
                values,
                schema,
                presets,
                cloud_types: row.cloud_types.0.clone(),
                addon_type: row.addon_type.clone(),
                addon_sub_type: row.addon_sub_type.clone(),
                annotations: effective_annotations(row),
                digest: row.digest.to_string(),
                group: row.group.clone().unwrap_or_default(),
                logo_url: logo_url(row),
                registry_uid: registry_uid.to_owned(),
            },
            status: serde_json::Map::from_iter([(
                "state".to_owned(),
                serde_json::Value::String(row.state.as_str().to_owned()),
            )]),
        }
    }
}

/// `v1PackSummaries`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PackSummaries {
    pub items: Vec<PackSummary>,
    pub listmeta: ListMeta,
}

/// `v1RegistryPackMetadata`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistryPackMetadata {
    pub uid: String,
    pub name: String,
    pub scope: &'static str,
    pub latest_version: String,
    pub latest_pack_uid: String,
    pub logo_url: String,
    pub annotations: BTreeMap<String, String>,
}

/// `v1PackMetadataSpec`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackMetadataSpec {
    pub name: String,
    pub display_name: String,
    pub layer: String,
    #[serde(rename = "type")]
    pub pack_type: &'static str,
    pub cloud_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addon_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addon_sub_type: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub group: String,
    pub registries: Vec<RegistryPackMetadata>,
}

/// `v1PackMetadata`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackMetadata {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: PackMetadataSpec,
}

impl PackMetadata {
    /// One row per pack, described by its latest version.
    pub fn new(latest: &VersionRow, registry_uid: &str, registry_name: &str) -> Self {
        PackMetadata {
            api_version: "v1",
            kind: "PackMetadata",
            metadata: ObjectMeta::for_version(latest),
            spec: PackMetadataSpec {
                name: latest.pack_name.to_string(),
                display_name: latest.display_name.clone(),
                layer: latest.layer.to_string(),
                pack_type: PALETTE_PACK_TYPE,
                cloud_types: latest.cloud_types.0.clone(),
                addon_type: latest.addon_type.clone(),
                addon_sub_type: latest.addon_sub_type.clone(),
                group: latest.group.clone().unwrap_or_default(),
                registries: vec![RegistryPackMetadata {
                    uid: registry_uid.to_owned(),
                    name: registry_name.to_owned(),
                    scope: "system",
                    latest_version: latest.version.to_string(),
                    latest_pack_uid: latest.uid.clone(),
                    logo_url: logo_url(latest),
                    annotations: effective_annotations(latest),
                }],
            },
        }
    }
}

/// `v1PackMetadataList`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PackMetadataList {
    pub items: Vec<PackMetadata>,
    pub listmeta: ListMeta,
}

/// `v1RegistryMetadata`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistryMetadata {
    pub uid: String,
    pub name: String,
    pub kind: &'static str,
    pub scope: &'static str,
    pub is_private: bool,
    pub is_default: bool,
}

/// `v1RegistriesMetadata`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegistriesMetadata {
    pub items: Vec<RegistryMetadata>,
}

/// `v1PackReadme`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PackReadme {
    pub readme: String,
}

/// `v1RegistrySyncStatus`: packyard serves its own packs, so it is always in sync.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistrySyncStatus {
    pub is_sync_supported: bool,
    pub last_run_time: String,
    pub last_synced_time: String,
    pub message: String,
    pub status: &'static str,
}

impl RegistrySyncStatus {
    /// In sync as of `now` (RFC 3339).
    pub fn in_sync(now: String) -> Self {
        RegistrySyncStatus {
            is_sync_supported: true,
            last_run_time: now.clone(),
            last_synced_time: now,
            message: "packyard serves the packs it stores; there is nothing to synchronise"
                .to_owned(),
            status: "Completed",
        }
    }
}

/// `v1RegistryAuth` without secrets: how a client authenticates to this registry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegistryAuth {
    /// `noAuth` (public reads), `basic` (htpasswd users) or `token` (API tokens).
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// The `metadata` of a registry or project (`v1ObjectMeta`, the fields packyard fills).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EntityMeta {
    pub uid: String,
    pub name: String,
}

/// `v1PackRegistrySpec`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackRegistrySpec {
    pub auth: RegistryAuth,
    pub endpoint: String,
    pub name: String,
    pub private: bool,
    pub registry_uid: String,
    pub scope: &'static str,
}

/// `v1PackRegistryStatus`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackRegistryStatus {
    pub pack_sync_status: RegistrySyncStatus,
}

/// `v1PackRegistry`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PackRegistry {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: EntityMeta,
    pub spec: PackRegistrySpec,
    pub status: PackRegistryStatus,
}

/// `v1PackRegistries`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PackRegistries {
    pub items: Vec<PackRegistry>,
    pub listmeta: ListMeta,
}

/// `v1PackRegistrySpecSummary`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PackRegistrySpecSummary {
    pub endpoint: String,
    pub private: bool,
    pub scope: &'static str,
}

/// `v1PackRegistryStatusSummary`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PackRegistryStatusSummary {
    pub sync: RegistrySyncStatus,
}

/// `v1PackRegistrySummary`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PackRegistrySummary {
    pub metadata: EntityMeta,
    pub spec: PackRegistrySpecSummary,
    pub status: PackRegistryStatusSummary,
}

/// `v1PackRegistriesSummary`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PackRegistriesSummary {
    pub items: Vec<PackRegistrySummary>,
    pub listmeta: ListMeta,
}

/// `v1HelmRegistries`, `v1HelmRegistriesSummary` and `v1OciRegistries`: packyard is none of these
/// kinds, so their lists are empty.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EmptyRegistries {
    /// Always empty.
    #[schema(value_type = Vec<Object>, max_items = 0)]
    pub items: Vec<serde_json::Value>,
    pub listmeta: ListMeta,
}

impl EmptyRegistries {
    pub fn new(limit: u64) -> Self {
        EmptyRegistries {
            items: Vec::new(),
            listmeta: ListMeta {
                continue_token: String::new(),
                count: 0,
                limit,
                offset: 0,
            },
        }
    }
}

/// `v1ProjectMetadata`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProjectMetadata {
    pub metadata: EntityMeta,
}

/// `v1ProjectsMetadata`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProjectsMetadata {
    pub items: Vec<ProjectMetadata>,
}
