// The registry's API, as the page uses it. Every failure becomes an ApiError with a message fit to
// show: the server's own {code, message}, or "cannot be reached" when the request never got there.

export class ApiError extends Error {
  constructor(status, code, message, body = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

async function call(path, options = {}) {
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    throw new ApiError(0, "UNREACHABLE", "The registry cannot be reached. Check that packyard is running, then try again.");
  }
  if (!response.ok) {
    let body = {};
    try {
      body = await response.json();
    } catch {
      body = {};
    }
    throw new ApiError(response.status, body.code || "ERROR", body.message || response.statusText, body);
  }
  return response;
}

let registry;

/** This registry's uid (for Palette-shaped pack queries). */
export async function registryUid() {
  if (!registry) {
    const body = await (await call("/v1/registries/metadata")).json();
    registry = body.items[0].uid;
  }
  return registry;
}

/** One page of packs, one row per pack with its latest version. */
export async function searchPacks({ text, layer, cloud }, continueToken) {
  const filter = {};
  if (text) filter.text = text;
  if (layer) filter.layer = [layer];
  if (cloud) filter.environment = [cloud];
  const query = new URLSearchParams({ limit: "24" });
  if (continueToken) query.set("continue", continueToken);
  const response = await call(`/v1/packs/search?${query}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ filter, sort: [{ field: "displayName", order: "asc" }] }),
  });
  return response.json();
}

/** Every listed version of a pack (Palette's v1PackTagEntity). */
export async function packVersions(name) {
  const uid = await registryUid();
  return (await call(`/v1/packs/${encodeURIComponent(name)}/registries/${uid}`)).json();
}

/** What the pack page shows for one version. */
export async function overview(name, version) {
  return (await call(`/v1/packs/${encodeURIComponent(name)}/tags/${encodeURIComponent(version)}/overview`)).json();
}

/** The resolved default values for a cloud, as YAML. */
export async function defaultValues(name, version, cloud) {
  const query = new URLSearchParams({ cloudType: cloud });
  return (await call(`/v1/packs/${encodeURIComponent(name)}/tags/${encodeURIComponent(version)}/values?${query}`)).text();
}

/** Renders a version: the YAML stream and the object count. */
export async function render(name, version, body) {
  const response = await call(`/v1/packs/${encodeURIComponent(name)}/tags/${encodeURIComponent(version)}/render`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/yaml" },
    body: JSON.stringify(body),
  });
  return {
    yaml: await response.text(),
    objects: Number(response.headers.get("x-object-count") || 0),
    version: response.headers.get("x-pack-version"),
    warning: response.headers.get("warning"),
  };
}
