//! A pack straight from disk (a folder or a `tar.gz`), with no server and no data directory: the
//! pack author's loop, `packyard render ./my-pack` and `packyard lint ./my-pack`. The pack is read
//! and checked exactly as a publish reads it, and rendered by the same renderer a server uses.

use std::path::Path;

use super::rendering::{Format, RenderInputs, encode};
use super::{Finding, Pack, RegistryError};
use crate::pack::files::{Limits, PackFiles};
use crate::pack::{self, Asset};
use crate::render::gotemplate::Limits as RenderLimits;
use crate::render::pipeline::{LoadedVersion, PackRequest, Renderer};

/// Reads a pack folder or archive and adds the findings a publish adds.
pub fn read(path: &Path) -> Result<(Pack, Vec<Asset>), RegistryError> {
    let limits = Limits::default();
    let files = if path.is_dir() {
        PackFiles::from_dir(path, &limits)?
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| RegistryError::Corrupt(format!("cannot read {}: {e}", path.display())))?;
        PackFiles::from_archive(
            std::io::BufReader::new(file),
            &limits,
            &std::env::temp_dir(),
        )?
    };
    let (mut pack, assets) = pack::read(&files)?;
    crate::render::lint::check(&mut pack, &assets);
    Ok((pack, assets))
}

/// The findings a publish of the pack at `path` would return.
pub fn findings(path: &Path) -> Result<Vec<Finding>, RegistryError> {
    Ok(read(path)?.0.findings)
}

/// Renders the pack at `path` for `inputs`; the body as a server would answer it.
pub fn render(
    path: &Path,
    inputs: RenderInputs,
    strict: bool,
    format: Format,
) -> Result<Vec<u8>, RegistryError> {
    let (pack, assets) = read(path)?;
    let loaded = LoadedVersion::from_read("local", pack, &assets);
    Renderer::check_cloud(&loaded, &inputs.cloud)?;
    let renderer = Renderer::with_limits(0, RenderLimits::default());
    let budget = renderer.budget(None);
    let context = inputs.context();
    let facts = inputs.facts();
    let request = PackRequest {
        values: inputs.values.clone(),
        presets: inputs.presets.clone(),
    };
    let values = renderer.resolve_values(&loaded, &request, &context, &budget)?;
    let (documents, _) = renderer.render_for(&loaded, &values, strict, &facts, &budget)?;
    Ok(encode(&documents, format, &[0; 32])?.body.to_vec())
}
