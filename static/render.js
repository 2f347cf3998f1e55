// The render panel: a cloud, presets, the values (pre-filled with the cloud's defaults) and the
// rendered manifests with their object count, copy and download.
import { ApiError, defaultValues, render } from "./api.js";
import { h, replace } from "./dom.js";

const CLOUDS_FOR_ALL = ["aws", "azure", "gcp", "vsphere", "openstack"];

/** The kinds of a YAML stream, counted: "17 CustomResourceDefinition, 2 ClusterRole, ...". */
function kinds(yaml) {
  const counts = new Map();
  for (const match of yaml.matchAll(/^kind:\s*["']?([\w.-]+)/gm)) {
    counts.set(match[1], (counts.get(match[1]) || 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k, n]) => `${n} ${k}`).join(", ");
}

/** The 1-based line of the editor where a dotted value path's last key is written. */
function lineOf(text, path) {
  const key = path.split(".").pop().replace(/\[\d+\]$/, "");
  const lines = text.split("\n");
  const index = lines.findIndex((line) => new RegExp(`^\\s*${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*:`).test(line));
  return index >= 0 ? index + 1 : null;
}

export function renderPanel(section, view) {
  const clouds = view.cloudTypes.includes("all") ? CLOUDS_FOR_ALL : view.cloudTypes;
  const params = new URLSearchParams(window.location.search);
  const initialCloud = clouds.includes(params.get("cloud")) ? params.get("cloud") : clouds[0];
  const cloud = h("select", { id: "render-cloud", name: "cloud" }, clouds.map((c) => h("option", { value: c, selected: c === initialCloud }, c)));
  const groups = new Map();
  for (const preset of view.presets) {
    const group = preset.group || "Presets";
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group).push(preset);
  }
  const presetSelects = [...groups.entries()].map(([group, presets], index) => {
    const id = `preset-${index}`;
    return h("div", { class: "field" }, h("label", { for: id }, group),
      h("select", { id, "data-group": group }, h("option", { value: "" }, "None"),
        presets.map((p) => h("option", { value: p.group ? `${p.group}:${p.name}` : p.name }, p.displayName || p.name))));
  });
  const values = h("textarea", { id: "values", name: "values", rows: 16, spellcheck: "false", "aria-describedby": "values-help value-errors" });
  const errors = h("div", { id: "value-errors", "aria-live": "polite" });
  const button = h("button", { type: "submit", id: "render-button" }, "Render");
  const status = h("p", { id: "render-status", role: "status", class: "summary" });
  const output = h("div", { id: "render-result" });
  const form = h("form", { class: "render-form" },
    h("div", { class: "row" }, h("div", { class: "field" }, h("label", { for: "render-cloud" }, "Cloud"), cloud), presetSelects),
    h("div", { class: "field" }, h("label", { for: "values" }, "Values (YAML)"),
      h("p", { id: "values-help", class: "help" }, `Pre-filled with ${view.displayName} ${view.version}'s defaults for the chosen cloud; edit and render.`),
      h("div", { class: "editor" }, values, errors)),
    h("p", {}, button), status);
  replace(section, h("h2", { id: "render-heading" }, "Render"), form, output);

  async function prefill() {
    values.value = "";
    values.setAttribute("aria-invalid", "false");
    replace(errors);
    status.textContent = `Loading the defaults for ${cloud.value}…`;
    try {
      values.value = await defaultValues(view.name, view.version, cloud.value);
      status.textContent = "";
    } catch (error) {
      status.textContent = error.message;
    }
  }

  function showErrors(error) {
    const list = error.body?.errors || [];
    values.setAttribute("aria-invalid", "true");
    replace(errors, h("div", { class: "notice error", role: "alert" },
      h("p", {}, h("strong", {}, error.code === "VALUES_INVALID" && list.length ? "These values do not fit the pack's schema:" : error.message)),
      list.length ? h("ul", { class: "plain" }, list.map((e) => {
        const line = lineOf(values.value, e.path);
        return h("li", { "data-path": e.path }, h("code", {}, e.path), line ? ` (line ${line})` : "", `: ${e.message}`);
      })) : null));
  }

  async function submit(event) {
    event.preventDefault();
    button.disabled = true;
    status.textContent = "Rendering…";
    replace(errors);
    values.setAttribute("aria-invalid", "false");
    const presets = [...form.querySelectorAll("select[data-group]")].map((s) => s.value).filter(Boolean);
    try {
      const result = await render(view.name, view.version, { cloudType: cloud.value, values: values.value, presets });
      if (result.objects === 0) {
        // Say why rather than show an empty block.
        const reason = (result.warning || "").replace(/^299 - "|"$/g, "");
        status.textContent = reason
          ? `Nothing to render: ${reason}.`
          : "0 objects: these values turn every manifest and chart template off.";
        replace(output);
        return;
      }
      status.textContent = `${result.objects} objects: ${kinds(result.yaml)}`;
      const fileName = `${view.name}-${view.version}-${cloud.value}.yaml`;
      const copy = h("button", { type: "button", class: "secondary", id: "copy-output" }, "Copy");
      copy.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(result.yaml);
          copy.textContent = "Copied";
        } catch {
          copy.textContent = "Copy blocked by the browser";
        }
      });
      const download = h("a", { class: "button secondary", id: "download-output", download: fileName,
        href: URL.createObjectURL(new Blob([result.yaml], { type: "application/yaml" })) }, `Download ${fileName}`);
      replace(output, h("div", { class: "output-actions" }, copy, download),
        h("pre", { id: "render-output", tabindex: "0", "aria-label": "Rendered manifests" }, h("code", {}, result.yaml)));
    } catch (error) {
      status.textContent = "";
      replace(output);
      if (error instanceof ApiError && error.code === "VALUES_INVALID") {
        showErrors(error);
      } else {
        replace(errors, h("div", { class: "notice error", role: "alert" }, h("p", {}, h("strong", {}, "The pack refused to render: "), error.message)));
      }
    } finally {
      button.disabled = false;
    }
  }

  cloud.addEventListener("change", () => {
    const query = new URLSearchParams(window.location.search);
    query.set("cloud", cloud.value);
    window.history.replaceState(null, "", `${window.location.pathname}?${query}`);
    replace(output);
    prefill();
  });
  form.addEventListener("submit", submit);
  prefill();
}
