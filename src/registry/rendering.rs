//! Rendering through the registry: a pack's manifests for a cloud (with finished bodies cached by
//! every input), its resolved default values, a whole profile, and profile validation. CPU work
//! runs on the blocking pool, at most `render_permits` at once, with a fresh budget that is
//! cancelled when the caller goes away.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use tokio::sync::OwnedSemaphorePermit;

use super::cache::renders::{RenderedBody, request_key};
use super::{LoadedVersion, Registry, RegistryError, VersionRow};
use crate::domain::PackName;
use crate::render::gotemplate::Budget;
use crate::render::macros::MacroContext;
use crate::render::output::{self, Document};
use crate::render::pipeline::{Facts, PackRequest, RenderError, Renderer};
use crate::render::profile::{self, Layered};

pub use crate::render::functions::check as check_functions;
pub use crate::render::pipeline::CacheOutcome;
pub use crate::render::profile::ConstraintError;
pub use crate::render::values::get_path;
pub use crate::render::yaml_out::to_yaml;

/// How rendered objects are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A YAML stream, one document per object.
    Yaml,
    /// A Kubernetes `List`.
    Json,
}

/// What a pack render needs besides the pack: the cloud, the user's values and presets, the
/// profile's variables and the cluster's facts.
#[derive(Debug, Clone, Default)]
pub struct RenderInputs {
    pub cloud: String,
    pub values: Option<String>,
    pub presets: Vec<String>,
    pub variables: BTreeMap<String, String>,
    pub region: Option<String>,
    pub cluster_name: Option<String>,
    pub kubernetes_version: Option<String>,
    /// The cluster's API server address (`.Spectro.apiServer` in manifests).
    pub api_server: Option<String>,
    /// Makes random functions (`randAlphaNum`, `genCA`, `uuidv4`, ...) and `now` repeatable.
    pub seed: Option<u64>,
}

impl RenderInputs {
    pub(super) fn facts(&self) -> Facts {
        Facts {
            kubernetes_version: self.kubernetes_version.clone().unwrap_or_default(),
            cluster_name: self.cluster_name.clone().unwrap_or_default(),
            api_server: self.api_server.clone().unwrap_or_default(),
            seed: self.seed,
        }
    }

    pub(super) fn context(&self) -> MacroContext {
        MacroContext {
            cloud_type: self.cloud.clone(),
            region: self.region.clone().unwrap_or_default(),
            cluster_name: self.cluster_name.clone().unwrap_or_default(),
            kubernetes_version: self.kubernetes_version.clone().unwrap_or_default(),
            packs: BTreeMap::new(),
            variables: self.variables.clone(),
        }
    }

    /// Everything that determines the output for version `uid`, as a cache key.
    fn key(&self, uid: &str, strict: bool, format: Format) -> [u8; 32] {
        let variables = serde_json::to_vec(&self.variables).unwrap_or_default();
        let presets = self.presets.join("\n");
        let flags = [u8::from(strict), u8::from(format == Format::Json)];
        let seed = self.seed.map(|s| s.to_string()).unwrap_or_default();
        request_key([
            uid.as_bytes(),
            self.cloud.as_bytes(),
            self.values.as_deref().unwrap_or_default().as_bytes(),
            presets.as_bytes(),
            &variables,
            self.region.as_deref().unwrap_or_default().as_bytes(),
            self.cluster_name.as_deref().unwrap_or_default().as_bytes(),
            self.kubernetes_version
                .as_deref()
                .unwrap_or_default()
                .as_bytes(),
            self.api_server.as_deref().unwrap_or_default().as_bytes(),
            seed.as_bytes(),
            &flags,
        ])
    }
}

/// A rendered pack: the version the tag resolved to, the finished body, and whether it came from
/// the cache.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub row: VersionRow,
    pub body: Arc<RenderedBody>,
    pub cache: CacheOutcome,
    /// The pack has neither manifests nor charts: there was nothing to render.
    pub nothing_to_render: bool,
}

/// One pack of a profile: a name, a tag (a version, a parent tag or `latest`), values, presets.
#[derive(Debug, Clone)]
pub struct ProfilePack {
    /// As the request named it (validation reports a name that is not valid as not found).
    pub name: String,
    pub tag: String,
    pub values: Option<String>,
    pub presets: Vec<String>,
}

/// A profile to render or validate.
#[derive(Debug, Clone)]
pub struct Profile {
    pub cloud: String,
    pub packs: Vec<ProfilePack>,
    pub variables: BTreeMap<String, String>,
    pub cluster_name: Option<String>,
    pub region: Option<String>,
    /// Overrides the Kubernetes layer's version.
    pub kubernetes_version: Option<String>,
    pub api_server: Option<String>,
    pub seed: Option<u64>,
}

/// What validation found for one pack of a profile.
#[derive(Debug, Clone)]
pub struct PackFindings {
    pub name: String,
    pub display_name: String,
    pub errors: Vec<ConstraintError>,
}

/// Sets its flag when dropped: a request that is abandoned (the client left, or the request
/// time limit answered first) stops its render at the next budget check.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Registry {
    /// Runs CPU-bound render work on the blocking pool, at most `render_permits` at once, with a
    /// fresh budget that is cancelled if the caller goes away.
    pub async fn on_render_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Renderer, &Budget) -> T + Send + 'static,
    ) -> Result<T, RegistryError> {
        let permit = self.render_slot().await?;
        let registry = self.clone();
        let cancel = CancelOnDrop(Arc::new(AtomicBool::new(false)));
        let flag = cancel.0.clone();
        let result = self
            .spawn_blocking(move || {
                let _permit = permit;
                let renderer = &registry.inner.renderer;
                let budget = renderer.budget(Some(flag));
                work(renderer, &budget)
            })
            .await?;
        drop(cancel);
        Ok(result)
    }

    /// One of the `render_permits` slots, held until dropped; `Busy` when none frees up within
    /// the render queue timeout.
    pub async fn render_slot(&self) -> Result<OwnedSemaphorePermit, RegistryError> {
        let permits = self.inner.render_permits.clone();
        match tokio::time::timeout(self.inner.render_queue_timeout, permits.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed.
            Ok(Err(_)) | Err(_) => Err(RegistryError::Busy(
                "every render slot is busy; retry shortly",
            )),
        }
    }

    /// Renders `tag` of `pack` for `inputs.cloud`: from the cache when the same inputs were
    /// rendered before.
    pub async fn render_pack(
        &self,
        pack: &PackName,
        tag: &str,
        inputs: RenderInputs,
        strict: bool,
        format: Format,
    ) -> Result<Rendered, RegistryError> {
        let (row, loaded) = self.load(pack, tag).await?;
        Renderer::check_cloud(&loaded, &inputs.cloud)?;
        let nothing_to_render = loaded.manifests.is_empty() && loaded.pack.charts.is_empty();
        let key = inputs.key(&row.uid, strict, format);
        if let Some(body) = self.inner.caches.renders.get(&key) {
            return Ok(Rendered {
                row,
                body,
                cache: CacheOutcome::Hit,
                nothing_to_render,
            });
        }
        let context = inputs.context();
        let facts = inputs.facts();
        let request = PackRequest {
            values: inputs.values,
            presets: inputs.presets,
        };
        let (body, cache) = self
            .on_render_pool(move |renderer, budget| -> Result<_, RegistryError> {
                let values = renderer.resolve_values(&loaded, &request, &context, budget)?;
                let (documents, outcome) =
                    renderer.render_for(&loaded, &values, strict, &facts, budget)?;
                Ok((encode(&documents, format, &key)?, outcome))
            })
            .await??;
        let body = Arc::new(body);
        self.inner.caches.renders.insert(key, body.clone());
        Ok(Rendered {
            row,
            body,
            cache,
            nothing_to_render,
        })
    }

    /// The resolved default values of `tag` of `pack` for `cloud` (what a UI pre-fills).
    pub async fn default_values(
        &self,
        pack: &PackName,
        tag: &str,
        cloud: &str,
    ) -> Result<(VersionRow, Value), RegistryError> {
        let (row, loaded) = self.load(pack, tag).await?;
        Renderer::check_cloud(&loaded, cloud)?;
        let context = MacroContext {
            cloud_type: cloud.to_owned(),
            ..MacroContext::default()
        };
        let values = self
            .on_render_pool(move |renderer, budget| {
                renderer.default_values(&loaded, &context, budget)
            })
            .await??;
        Ok((row, values))
    }

    /// The default values of a loaded version for each of `clouds` (clouds whose macros fail are
    /// left out).
    pub async fn defaults_per_cloud(
        &self,
        loaded: Arc<LoadedVersion>,
        clouds: Vec<String>,
    ) -> Result<Vec<(String, Value)>, RegistryError> {
        self.on_render_pool(move |renderer, budget| {
            clouds
                .into_iter()
                .filter_map(|cloud| {
                    let context = MacroContext {
                        cloud_type: cloud.clone(),
                        ..MacroContext::default()
                    };
                    renderer
                        .default_values(&loaded, &context, budget)
                        .ok()
                        .map(|values| (cloud, values))
                })
                .collect()
        })
        .await
    }

    /// Renders every pack of `profile`, in layer order, as one body; the ETag is a digest of the
    /// documents.
    pub async fn render_profile(
        &self,
        profile: Profile,
        strict: bool,
        format: Format,
    ) -> Result<RenderedBody, RegistryError> {
        let mut loaded: Vec<Arc<LoadedVersion>> = Vec::with_capacity(profile.packs.len());
        for pack in &profile.packs {
            let name: PackName = pack.name.parse()?;
            loaded.push(self.load(&name, &pack.tag).await?.1);
        }
        let requests = requests(&profile);
        let documents = self
            .on_render_pool(move |renderer, budget| {
                let versions: Vec<&LoadedVersion> = loaded.iter().map(Arc::as_ref).collect();
                let context = profile_context(&profile, &versions);
                let facts = profile::facts(
                    &context,
                    profile.api_server.as_deref().unwrap_or_default(),
                    profile.seed,
                );
                let layers = layered(&versions, requests);
                profile::render_all(renderer, &layers, &context, &facts, strict, budget)
            })
            .await?
            .map_err(|(pack, error)| RegistryError::of_pack(pack, error))?;
        let mut hasher = Sha256::new();
        for document in &documents {
            hasher.update(document.source.as_bytes());
            hasher.update(document.text.as_bytes());
        }
        hasher.update([u8::from(format == Format::Json)]);
        encode(&documents, format, &hasher.finalize().into())
    }

    /// Every problem of every pack of `profile`, none fatal: packs that are not found, values,
    /// renders and the checks across layers.
    pub async fn validate_profile(
        &self,
        profile: Profile,
    ) -> Result<Vec<PackFindings>, RegistryError> {
        let mut findings = Vec::with_capacity(profile.packs.len());
        let mut present: Vec<(usize, Arc<LoadedVersion>)> = Vec::new();
        for (index, pack) in profile.packs.iter().enumerate() {
            let found = match pack.name.parse::<PackName>() {
                Ok(name) => self.load(&name, &pack.tag).await,
                Err(error) => Err(RegistryError::InvalidName(error)),
            };
            let (display_name, errors) = match found {
                Ok((row, version)) => {
                    present.push((index, version));
                    (row.display_name, Vec::new())
                }
                Err(
                    error @ (RegistryError::PackUnknown(_)
                    | RegistryError::TagUnknown { .. }
                    | RegistryError::InvalidName(_)),
                ) => (pack.name.clone(), vec![not_found(&error)]),
                Err(other) => return Err(other),
            };
            findings.push(PackFindings {
                name: pack.name.clone(),
                display_name,
                errors,
            });
        }
        let all_requests = requests(&profile);
        let indices: Vec<usize> = present.iter().map(|(i, _)| *i).collect();
        let found = self
            .on_render_pool(move |renderer, budget| {
                let versions: Vec<&LoadedVersion> =
                    present.iter().map(|(_, v)| v.as_ref()).collect();
                let context = profile_context(&profile, &versions);
                let requests = present
                    .iter()
                    .map(|(i, _)| all_requests[*i].clone())
                    .collect();
                let layers = layered(&versions, requests);
                let facts = profile::facts(
                    &context,
                    profile.api_server.as_deref().unwrap_or_default(),
                    profile.seed,
                );
                profile::validate_all(renderer, &layers, &context, &facts, budget)
            })
            .await??;
        for (index, errors) in indices.into_iter().zip(found) {
            findings[index].errors.extend(errors);
        }
        Ok(findings)
    }
}

fn not_found(error: &RegistryError) -> ConstraintError {
    ConstraintError {
        code: "PackNotFound".to_owned(),
        message: error.to_string(),
    }
}

fn requests(profile: &Profile) -> Vec<PackRequest> {
    profile
        .packs
        .iter()
        .map(|p| PackRequest {
            values: p.values.clone(),
            presets: p.presets.clone(),
        })
        .collect()
}

fn profile_context(profile: &Profile, versions: &[&LoadedVersion]) -> MacroContext {
    let mut context = profile::base_context(&profile.cloud, versions, &profile.variables);
    context.cluster_name = profile.cluster_name.clone().unwrap_or_default();
    context.region = profile.region.clone().unwrap_or_default();
    if let Some(version) = profile
        .kubernetes_version
        .as_ref()
        .filter(|v| !v.is_empty())
    {
        context.kubernetes_version = version.clone();
    }
    context
}

fn layered<'a>(versions: &[&'a LoadedVersion], requests: Vec<PackRequest>) -> Vec<Layered<'a>> {
    versions
        .iter()
        .zip(requests)
        .map(|(version, request)| Layered { version, request })
        .collect()
}

/// The rendered documents as a body in `format`. `key` digests every input the body is a
/// function of, so it serves as a strong ETag without hashing the (large) body.
pub(super) fn encode(
    documents: &[Document],
    format: Format,
    key: &[u8; 32],
) -> Result<RenderedBody, RegistryError> {
    let body = match format {
        Format::Yaml => output::to_yaml_stream(documents).into_bytes(),
        Format::Json => {
            let objects = output::objects(documents).map_err(RenderError::from)?;
            serde_json::to_vec(&output::to_list(objects))
                .map_err(|e| RegistryError::Corrupt(format!("rendered objects: {e}")))?
        }
    };
    let etag = format!("\"{}\"", hex::encode(&key[..16]));
    let objects = documents
        .iter()
        .filter(|d| output::has_content(&d.text))
        .count();
    Ok(RenderedBody::new(Bytes::from(body), etag, objects))
}
