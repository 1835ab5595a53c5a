// The moderation rules as a form: per source, each stage with an input for each of its
// settings, and the API's refusals put beside the input they are about. Adding, removing
// or reordering stages is done in the JSON editor below the form.
import { announce, h, when } from "./dom.js";
import { api } from "./session.js";
import { fieldMessage, t } from "./strings.js";

const SOURCES = ["web", "social"];

// The kind of input a setting gets follows its current value.
function kindOf(value) {
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return "number";
  if (Array.isArray(value)) return "list";
  if (value === null) return "null";
  return typeof value === "object" ? "group" : "text";
}

function readInput(kind, input) {
  if (kind === "bool") return input.checked;
  if (kind === "list") return input.value.split("\n").map((v) => v.trim()).filter(Boolean);
  if (kind === "number") return input.value === "" ? null : Number(input.value);
  if (kind === "null") {
    // A setting switched off (null) is turned on by typing its JSON, e.g. a limit.
    if (!input.value.trim()) return null;
    try { return JSON.parse(input.value); } catch { return input.value; }
  }
  return input.value;
}

function setting(path, value, inputs) {
  const key = path.join(".");
  const inputId = `rule-${path.join("-")}`;
  const kind = kindOf(value);
  if (kind === "group") {
    return h("fieldset", { class: "rule-group" }, h("legend", {}, h("code", {}, path.at(-1))),
      Object.entries(value).map(([name, v]) => setting([...path, name], v, inputs)));
  }
  const attrs = { id: inputId, name: key, "aria-describedby": `${inputId}-error` };
  const input = kind === "bool" ? h("input", { ...attrs, type: "checkbox", checked: value })
    : kind === "number" ? h("input", { ...attrs, type: "number", step: "any", value: String(value), class: "narrow" })
      : kind === "list" ? h("textarea", { ...attrs, rows: Math.min(6, Math.max(2, value.length)) }, value.join("\n"))
        : h("input", { ...attrs, type: "text", value: value ?? "" });
  const error = h("span", { class: "error field-error", id: `${inputId}-error` });
  inputs.set(key, { input, kind, error, path });
  return h("div", { class: "field" }, h("label", { for: inputId }, h("code", {}, path.at(-1))),
    input, kind === "list" ? h("span", { class: "meta" }, t("onePerLine")) : null, error);
}

// The API's path names a stage by index and then by its tag ("web", 0, "size", "max_chars");
// the form's keys leave the tag out. A path deeper than any input (one word of a list)
// points at the input holding it.
export function inputFor(loc, rules, inputs) {
  const parts = [];
  let node = rules;
  for (const part of loc) {
    const isTag = node && typeof node === "object" && !Array.isArray(node) && node.stage === part && !(part in node);
    if (isTag) continue;
    parts.push(part);
    node = node == null ? undefined : node[part];
  }
  for (let n = parts.length; n > 0; n -= 1) {
    const found = inputs.get(parts.slice(0, n).join("."));
    if (found) return found;
  }
  return null;
}

function rulesForm(rules, onSaved) {
  const inputs = new Map();
  const general = h("ul", { id: "rules-form-errors", class: "error", role: "alert" });
  const sources = SOURCES.filter((s) => Array.isArray(rules[s])).map((source) =>
    h("fieldset", { class: "rule-source", "data-source": source }, h("legend", {}, t(`source_${source}`)),
      rules[source].map((stage, index) => h("fieldset", { class: "rule-stage", "data-stage": stage.stage },
        h("legend", {}, t(`stage_${stage.stage}`)),
        Object.entries(stage).filter(([name]) => name !== "stage")
          .map(([name, value]) => setting([source, index, name], value, inputs))))));
  const el = h("form", { id: "rules-form", class: "admin-form" }, sources,
    h("button", { type: "submit" }, t("saveRules")), general);
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    general.replaceChildren();
    const body = structuredClone(rules);
    for (const { input, kind, error, path } of inputs.values()) {
      error.textContent = "";
      input.removeAttribute("aria-invalid");
      let at = body;
      for (const part of path.slice(0, -1)) at = at[part];
      at[path.at(-1)] = readInput(kind, input);
    }
    try {
      await api("PUT", "/moderation/rules", body);
      announce(t("saved"));
      await onSaved();
    } catch (err) {
      const fields = err.fields && err.fields.length ? err.fields : [{ loc: [], message: err.message }];
      for (const field of fields) {
        const { loc } = field;
        const message = fieldMessage(field);
        const target = inputFor(loc, rules, inputs);
        if (target) {
          target.error.textContent = [target.error.textContent, message].filter(Boolean).join("; ");
          target.input.setAttribute("aria-invalid", "true");
        } else general.append(h("li", {}, loc.length ? h("code", { class: "path" }, loc.join(".")) : null, ` ${message}`));
      }
      announce(err.message);
    }
  });
  return el;
}

function jsonEditor(rules, onSaved) {
  const text = h("textarea", { id: "rules-json", rows: 18, spellcheck: "false", "aria-describedby": "rules-errors" },
    JSON.stringify(rules, null, 2));
  const errors = h("ul", { id: "rules-errors", class: "error", role: "alert" });
  const save = h("button", { type: "button", onclick: async () => {
    errors.replaceChildren();
    let body;
    try { body = JSON.parse(text.value); } catch (err) { errors.append(h("li", {}, `JSON: ${err.message}`)); return; }
    try {
      await api("PUT", "/moderation/rules", body);
      announce(t("saved"));
      await onSaved();
    } catch (err) {
      const fields = err.fields && err.fields.length ? err.fields : [{ loc: [], message: err.message }];
      for (const { loc, message } of fields) {
        errors.append(h("li", {}, loc.length ? h("code", { class: "path" }, loc.join(".")) : null, ` ${message}`));
      }
    }
  } }, t("saveJson"));
  return h("details", { class: "rules-json" }, h("summary", {}, t("editAsJson")),
    h("label", { for: "rules-json" }, t("rulesJson")), text, errors, save);
}

export async function renderRules(pane) {
  const [current, versions] = await Promise.all([api("GET", "/moderation/rules"), api("GET", "/moderation/rules/versions")]);
  const reload = () => renderRules(pane);
  const rows = versions.items.map((v) => h("tr", { "data-version": v.version },
    h("td", {}, h("code", {}, v.version)), h("td", {}, v.created_by), h("td", {}, when(v.created_at)),
    h("td", {}, v.in_force ? t("inForce") : h("button", { type: "button", onclick: async () => {
      try { await api("POST", "/moderation/rules/rollback", { version: v.version }); announce(t("saved")); await reload(); }
      catch (err) { announce(err.message); }
    } }, t("rollback")))));
  pane.replaceChildren(
    h("section", { class: "panel" },
      h("h2", {}, `${t("adminRules")} · `, h("code", {}, current.version), ` (${t(`origin_${current.origin}`)})`),
      rulesForm(current.rules, reload), jsonEditor(current.rules, reload)),
    h("section", { class: "panel" }, h("h2", {}, t("versions")),
      rows.length ? h("table", { class: "admin-table" }, h("caption", { class: "sr-only" }, t("versions")),
        h("thead", {}, h("tr", {}, [t("version"), t("who"), t("when"), ""].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows)) : h("p", { class: "empty" }, t("noVersions"))));
}
