// A pack: version tabs grouped like Palette's documentation (one per active minor line, one for every
// deprecated version), then the chosen version's parameters, README, images, blobs and render panel.
import { ApiError, overview, packVersions } from "./api.js";
import { bytes, compareVersions, h, notice, replace } from "./dom.js";
import { renderPanel } from "./render.js";

const DEPRECATED = "Deprecated";

function stateOf(values) {
  const annotations = values?.annotations || {};
  if (annotations.disabled === "true") return "disabled";
  return annotations.system_state || "active";
}

/** Concrete versions with their state, newest first. */
function versionsOf(entity) {
  const states = new Map((entity.packValues || []).map((v) => [v.packUid, stateOf(v)]));
  return entity.tags
    .filter((tag) => !tag.tag.endsWith(".x"))
    .map((tag) => ({ version: tag.version, uid: tag.packUid, state: states.get(tag.packUid) || "active" }))
    .sort((a, b) => compareVersions(b.version, a.version));
}

/** Tabs: "3.24.x", "3.23.x", ... for active lines (newest first), then "Deprecated". */
function tabsOf(versions) {
  const tabs = new Map();
  for (const entry of versions) {
    const [major, minor] = entry.version.replace(/^v/i, "").split(/[.-]/);
    const label = entry.state === "deprecated" ? DEPRECATED : `${major}.${minor || 0}.x`;
    if (!tabs.has(label)) tabs.set(label, []);
    tabs.get(label).push(entry);
  }
  const labels = [...tabs.keys()].filter((l) => l !== DEPRECATED).sort((a, b) => compareVersions(b, a));
  if (tabs.has(DEPRECATED)) labels.push(DEPRECATED);
  return labels.map((label) => ({ label, versions: tabs.get(label) }));
}

function setQuery(changes) {
  const params = new URLSearchParams(window.location.search);
  for (const [key, value] of Object.entries(changes)) {
    if (value) params.set(key, value);
    else params.delete(key);
  }
  window.history.replaceState(null, "", `${window.location.pathname}?${params}`);
}

function parametersTable(parameters) {
  if (!parameters.length) return h("p", {}, "This pack declares no parameters.");
  return h("div", { class: "table-scroll" },
    h("table", { id: "parameters" },
      h("caption", {}, "Parameters (from schema.yaml and the values)"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Supported values"), h("th", { scope: "col" }, "Default"), h("th", { scope: "col" }, "Description"))),
      h("tbody", {}, parameters.map((p) => h("tr", { "data-parameter": p.key },
        h("th", { scope: "row", "data-label": "Name" }, h("code", {}, p.key), p.required ? h("span", { class: "badge" }, "required") : null, p.readonly ? h("span", { class: "badge" }, "read-only") : null),
        h("td", { "data-label": "Supported values" }, p.supportedValues.length ? h("ul", { class: "plain" }, p.supportedValues.map((v) => h("li", {}, h("code", {}, v)))) : h("code", {}, p.format || p.type)),
        h("td", { class: "defaults", "data-label": "Default" }, p.defaults.length > 1 && p.defaults.every((d) => d.clouds.length === 1 && d.value === d.clouds[0])
          ? "the cluster's cloud"
          : p.defaults.length === 1
          ? h("code", {}, p.defaults[0].value || "—")
          : h("ul", { class: "plain" }, p.defaults.map((d) => h("li", { "data-clouds": d.clouds.join(",") }, h("code", {}, d.value || "—"), ` on ${d.clouds.join(", ")}`)))),
        h("td", { "data-label": "Description" }, p.description))))));
}

function chartParameters(chart) {
  if (!chart.parameters.length) {
    return h("p", {}, "This chart has no values.schema.json: its parameters are the keys of its values, shown in the render panel.");
  }
  return h("div", { class: "table-scroll" },
    h("table", { class: "chart-parameters", "data-chart": chart.name },
      h("caption", {}, `Parameters of ${chart.name} (from its values.schema.json)`),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Type"), h("th", { scope: "col" }, "Default"), h("th", { scope: "col" }, "Description"))),
      h("tbody", {}, chart.parameters.map((p) => h("tr", { "data-parameter": p.path },
        h("th", { scope: "row", "data-label": "Name" }, h("code", {}, p.path), p.required ? h("span", { class: "badge" }, "required") : null),
        h("td", { "data-label": "Type" }, p.supportedValues.length ? h("ul", { class: "plain" }, p.supportedValues.map((v) => h("li", {}, h("code", {}, v)))) : h("code", {}, p.type || "any")),
        h("td", { class: "defaults", "data-label": "Default" }, h("code", {}, p.default || "—")),
        h("td", { "data-label": "Description" }, p.description))))));
}

function chartsSection(view) {
  if (!view.charts.length) return null;
  return h("section", { "aria-labelledby": "charts-heading" }, h("h2", { id: "charts-heading" }, "Charts"),
    h("p", {}, `Rendered as helm template renders them, in this order${view.manifests ? ", before the pack's manifests" : ""}; values go under charts.<chart name>.`),
    view.charts.map((chart) => h("article", { class: "chart", "data-chart": chart.name },
      h("h3", {}, `${chart.name} ${chart.version}`, chart.appVersion ? h("span", { class: "meta" }, ` · app ${chart.appVersion}`) : null),
      chart.problem ? notice("error", "This chart could not be loaded", chart.problem) : null,
      chart.description ? h("p", {}, chart.description) : null,
      h("p", { class: "meta" }, h("code", {}, chart.path)),
      chart.dependencies.length
        ? h("div", {}, h("h4", {}, "Dependencies"), h("ul", { class: "plain chart-dependencies" }, chart.dependencies.map((d) =>
          h("li", {}, h("code", {}, d.alias ? `${d.name} as ${d.alias}` : d.name), ` ${d.version}`, d.condition ? ` (when ${d.condition})` : ""))))
        : null,
      chart.crds.length
        ? h("div", {}, h("h4", {}, `CRDs (${chart.crds.length})`), h("ul", { class: "plain mono chart-crds" }, chart.crds.map((c) => h("li", {}, c))))
        : null,
      chartParameters(chart))));
}

function readmeSection(view) {
  const readme = h("article", { id: "readme", class: "readme" });
  if (view.readmeHtml.trim()) {
    // Sanitised on the server (pulldown-cmark + ammonia); the page's CSP blocks inline scripts too.
    readme.innerHTML = view.readmeHtml;
  } else {
    readme.append(h("p", { class: "help", id: "readme-missing" },
      "This pack has no README.md: its author did not include one. What it contains is shown here instead: its parameters",
      view.charts.length ? ", its charts" : "", " and what it renders."));
  }
  return readme;
}

function details(view) {
  const readme = readmeSection(view);
  const chartPack = view.charts.length > 0 && view.parameters.length === 0;
  return [
    h("section", { "aria-labelledby": "parameters-heading" }, h("h2", { id: "parameters-heading" }, "Parameters"),
      chartPack ? h("p", {}, "This pack declares no parameters of its own in schema.yaml; its charts' parameters are listed under Charts.") : parametersTable(view.parameters)),
    chartsSection(view),
    h("section", { "aria-labelledby": "render-heading", id: "render-panel" }),
    h("section", { "aria-labelledby": "readme-heading" }, h("h2", { id: "readme-heading" }, "README"), readme),
    h("section", { "aria-labelledby": "images-heading" }, h("h2", { id: "images-heading" }, "Images"),
      view.images.length ? h("ul", { id: "images", class: "plain mono" }, view.images.map((i) => h("li", {}, i))) : h("p", {}, "No images listed.")),
    h("section", { "aria-labelledby": "content-heading" }, h("h2", { id: "content-heading" }, "Content"),
      h("p", {}, "Content digest ", h("code", { id: "digest", class: "digest" }, view.digest)),
      h("p", {}, "OCI reference ", h("code", { id: "oci-reference", class: "digest" }, `${location.host}/${view.ociReference}`)),
      h("p", {}, "Pull it with ORAS: ", h("code", { id: "oras-pull", class: "digest" }, `oras pull ${location.host}/${view.ociReference}`)),
      h("div", { class: "table-scroll" }, h("table", { id: "blobs" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "File"), h("th", { scope: "col" }, "Size"), h("th", { scope: "col" }, "Digest"))),
        h("tbody", {}, view.blobs.map((b) => h("tr", {},
          h("td", {}, h("a", { href: b.url, download: b.path === "archive" ? `${view.name}-${view.version}.tar.gz` : b.path.split("/").pop() }, b.path === "archive" ? "pack archive (.tar.gz)" : b.path)),
          h("td", {}, bytes(b.size)),
          h("td", {}, h("code", { class: "digest" }, b.digest)))))))),
  ];
}

async function showVersion(container, name, version) {
  replace(container, h("p", { class: "loading", role: "status" }, `Loading ${version}…`));
  try {
    const view = await overview(name, version);
    const sections = details(view);
    replace(container,
      h("div", { class: "version-head" },
        h("h2", {}, `${view.displayName} ${view.version}`),
        view.state !== "active" ? h("span", { class: `badge ${view.state}` }, view.state) : null,
        h("p", { class: "meta" }, `Layer ${view.layer} · clouds ${view.cloudTypes.join(", ")}`)),
      sections);
    renderPanel(container.querySelector("#render-panel"), view);
  } catch (error) {
    replace(container, notice("error", `Version ${version} could not be loaded`, error.message));
  }
}

function tabList(tabs, selected, onSelect) {
  const buttons = tabs.map((tab, index) => h("button", {
    type: "button", role: "tab", id: `tab-${index}`, "aria-controls": "version-panel",
    "aria-selected": tab.label === selected ? "true" : "false", tabindex: tab.label === selected ? "0" : "-1",
    "data-tab": tab.label,
  }, tab.label));
  const list = h("div", { id: "version-tabs", role: "tablist", "aria-label": "Versions" }, buttons);
  list.addEventListener("click", (event) => {
    const button = event.target.closest("[role=tab]");
    if (button) onSelect(button.dataset.tab);
  });
  list.addEventListener("keydown", (event) => {
    const index = buttons.indexOf(document.activeElement);
    if (index < 0) return;
    let next = null;
    if (event.key === "ArrowRight") next = (index + 1) % buttons.length;
    if (event.key === "ArrowLeft") next = (index - 1 + buttons.length) % buttons.length;
    if (event.key === "Home") next = 0;
    if (event.key === "End") next = buttons.length - 1;
    if (next !== null) {
      event.preventDefault();
      buttons[next].focus();
      onSelect(buttons[next].dataset.tab);
    }
  });
  return list;
}

export async function showPack(main, name) {
  document.title = `${name} · packyard`;
  replace(main, h("p", { class: "loading", role: "status" }, `Loading ${name}…`));
  let entity;
  try {
    entity = await packVersions(name);
  } catch (error) {
    const missing = error instanceof ApiError && error.status === 404;
    replace(main, h("nav", { class: "crumbs" }, h("a", { href: "/" }, "← All packs")),
      notice("error", missing ? `No pack named ${name}` : "The pack could not be loaded",
        missing ? "It may have been removed, or the link is wrong." : error.message,
        h("a", { href: "/" }, "Back to the catalog")));
    return;
  }
  document.title = `${entity.displayName} · packyard`;
  const versions = versionsOf(entity);
  const tabs = tabsOf(versions);
  const params = new URLSearchParams(window.location.search);
  let selectedTab = tabs.some((t) => t.label === params.get("versions")) ? params.get("versions") : tabs[0].label;

  const panel = h("div", { id: "version-panel", role: "tabpanel" });
  const detail = h("div", { id: "version-detail" });
  const header = h("div", { class: "pack-head" },
    entity.logoUrl ? h("img", { class: "logo large", src: entity.logoUrl, alt: `${entity.displayName} logo`, width: 64, height: 64 }) : null,
    h("div", {}, h("h1", {}, entity.displayName), h("p", { class: "meta" }, h("code", {}, entity.name), ` · ${entity.layer} · ${entity.cloudTypes.join(", ")}`)));

  function selectVersion(version) {
    setQuery({ versions: selectedTab, version });
    for (const button of panel.querySelectorAll("[data-version]")) {
      button.setAttribute("aria-pressed", button.dataset.version === version ? "true" : "false");
    }
    showVersion(detail, name, version);
  }

  function selectTab(label, version) {
    selectedTab = label;
    for (const button of tabsElement.querySelectorAll("[role=tab]")) {
      const on = button.dataset.tab === label;
      button.setAttribute("aria-selected", on ? "true" : "false");
      button.tabIndex = on ? 0 : -1;
      if (on) panel.setAttribute("aria-labelledby", button.id);
    }
    const entries = tabs.find((t) => t.label === label).versions;
    replace(panel, h("ul", { class: "versions", "aria-label": `${label} versions` }, entries.map((entry) => h("li", {},
      h("button", { type: "button", class: "version", "data-version": entry.version, "aria-pressed": "false", onclick: () => selectVersion(entry.version) },
        entry.version, entry.state !== "active" ? h("span", { class: `badge ${entry.state}` }, entry.state) : null)))));
    const chosen = entries.some((e) => e.version === version) ? version : entries[0].version;
    selectVersion(chosen);
  }

  const tabsElement = tabList(tabs, selectedTab, (label) => selectTab(label));
  replace(main, h("nav", { class: "crumbs" }, h("a", { href: "/" }, "← All packs")), header, tabsElement, panel, detail);
  selectTab(selectedTab, params.get("version"));
}
