// The catalog: a grid of packs with text, layer and cloud filters kept in the URL.
import { ApiError, searchPacks } from "./api.js";
import { h, notice, replace } from "./dom.js";

const LAYERS = ["os", "k8s", "cni", "csi", "addon", "kernel"];
const CLOUDS = ["aws", "azure", "gcp", "vsphere", "openstack", "maas", "baremetal", "edge-native", "libvirt", "eks", "aks"];
const LAYER_NAMES = { os: "OS", k8s: "Kubernetes", cni: "Network (CNI)", csi: "Storage (CSI)", addon: "Add-on", kernel: "Kernel" };

function filtersFromUrl() {
  const params = new URLSearchParams(window.location.search);
  return { text: params.get("q") || "", layer: params.get("layer") || "", cloud: params.get("cloud") || "" };
}

function writeFiltersToUrl(filters) {
  const params = new URLSearchParams();
  if (filters.text) params.set("q", filters.text);
  if (filters.layer) params.set("layer", filters.layer);
  if (filters.cloud) params.set("cloud", filters.cloud);
  const query = params.toString();
  window.history.replaceState(null, "", query ? `/?${query}` : "/");
}

function select(id, label, options, names, value) {
  return h("div", { class: "field" },
    h("label", { for: id }, label),
    h("select", { id, name: id },
      h("option", { value: "" }, "All"),
      options.map((option) => h("option", { value: option, selected: option === value }, names?.[option] || option))));
}

function card(item) {
  const spec = item.spec;
  const registry = spec.registries?.[0] || {};
  const deprecated = registry.annotations?.system_state === "deprecated";
  const href = `/packs/${encodeURIComponent(spec.name)}`;
  return h("li", { class: "pack-card", "data-pack": spec.name },
    h("a", { href, class: "card-link" },
      registry.logoUrl
        ? h("img", { class: "logo", src: registry.logoUrl, alt: "", width: 48, height: 48, loading: "lazy" })
        : h("span", { class: "logo placeholder", "aria-hidden": "true" }, spec.displayName.slice(0, 1)),
      h("span", { class: "card-title" }, spec.displayName)),
    h("p", { class: "meta" },
      h("span", { class: "layer" }, LAYER_NAMES[spec.layer] || spec.layer),
      " · ",
      h("span", { class: "latest" }, `latest ${registry.latestVersion}`),
      deprecated ? h("span", { class: "badge deprecated" }, "Deprecated") : null),
    h("ul", { class: "clouds", "aria-label": "Cloud types" }, (spec.cloudTypes || []).map((c) => h("li", {}, c))));
}

export function showCatalog(main) {
  document.title = "packyard · pack catalog";
  const filters = filtersFromUrl();
  const search = h("input", { id: "search", type: "search", name: "q", value: filters.text, placeholder: "calico, cni, monitoring…", autocomplete: "off" });
  const form = h("form", { class: "filters", role: "search", onsubmit: (event) => event.preventDefault() },
    h("div", { class: "field grow" }, h("label", { for: "search" }, "Search packs"), search),
    select("layer", "Layer", LAYERS, LAYER_NAMES, filters.layer),
    select("cloud", "Cloud type", CLOUDS, null, filters.cloud));
  const summary = h("p", { id: "result-summary", class: "summary", role: "status" });
  const grid = h("ul", { id: "pack-grid", class: "grid", "aria-label": "Packs" });
  const more = h("div", { class: "more" });
  replace(main, h("h1", {}, "Pack catalog"), form, summary, grid, more);

  let generation = 0;
  async function load(continueToken) {
    const current = { text: search.value.trim(), layer: form.layer.value, cloud: form.cloud.value };
    writeFiltersToUrl(current);
    const mine = continueToken ? generation : ++generation;
    if (!continueToken) {
      replace(grid);
      replace(more);
      summary.textContent = "Searching…";
    }
    try {
      const page = await searchPacks(current, continueToken);
      if (mine !== generation) return;
      grid.append(...page.items.map(card));
      const shown = grid.children.length;
      summary.textContent = `${shown} of ${page.listmeta.count} pack${page.listmeta.count === 1 ? "" : "s"}`;
      replace(more, page.listmeta.continue
        ? h("button", { type: "button", class: "secondary", onclick: () => load(page.listmeta.continue) }, "Load more")
        : null);
      if (shown === 0) {
        replace(grid, h("li", { class: "empty" }, notice("empty", "No packs match", "Try another search, layer or cloud type.")));
      }
    } catch (error) {
      if (mine !== generation) return;
      summary.textContent = "";
      replace(grid, h("li", { class: "empty" }, notice("error", "The catalog could not be loaded", error instanceof ApiError ? error.message : String(error),
        h("button", { type: "button", onclick: () => load() }, "Try again"))));
    }
  }

  let timer;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => load(), 250);
  });
  form.layer.addEventListener("change", () => load());
  form.cloud.addEventListener("change", () => load());
  load();
}
