// Administration in the browser, through the same API endpoints (and RBAC) as the CLI:
// agents, the knowledge base, moderation rules and their versions, channels' health,
// service tokens, the audit log and outbound webhooks. The overview tab is the read-only
// admin page.
import { announce, h, when } from "./dom.js";
import { api } from "./session.js";
import { renderAdmin as renderOverview } from "./pages.js";
import { fieldMessage, t } from "./strings.js";
import { renderRules } from "./rules.js";
import { webhooksPanel } from "./webhooks.js";

const TABS = [
  ["agents", "adminAgents", renderAgents], ["kb", "adminKb", renderKb], ["rules", "adminRules", renderRules],
  ["channels", "adminChannels", renderChannels], ["tokens", "adminTokens", renderTokens],
  ["audit", "adminAudit", renderAudit], ["webhooks", "adminWebhooks", renderWebhooks],
  ["overview", "adminOverview", renderOverview],
];

// The API names the fields it refuses, each with the path of its value ({loc, message});
// an older message reads "email: value is not a valid email; password: …".
export function fieldErrors(err) {
  const errors = {};
  if (err.fields && err.fields.length) {
    for (const field of err.fields) {
      const key = field.loc.length ? String(field.loc[0]) : "_";
      errors[key] = [errors[key], fieldMessage(field)].filter(Boolean).join("; ");
    }
    return errors;
  }
  for (const part of String(err.message || "").split("; ")) {
    const at = part.indexOf(": ");
    const field = at > 0 ? part.slice(0, at).split(".")[0] : "";
    const key = at > 0 && !field.includes(" ") ? field : "_";
    errors[key] = [errors[key], at > 0 && key !== "_" ? part.slice(at + 2) : part].filter(Boolean).join("; ");
  }
  return errors;
}

// A form whose inputs each have a label and an error line tied to them by aria-describedby.
function form(id, fields, submitLabel, onSubmit) {
  const inputs = {};
  const errors = {};
  const general = h("p", { class: "error", role: "alert", id: `${id}-error` });
  const rows = fields.map(({ name, label, type = "text", options, value = "", ...rest }) => {
    const inputId = `${id}-${name}`;
    errors[name] = h("span", { class: "error field-error", id: `${inputId}-error` });
    const attrs = { id: inputId, name, "aria-describedby": `${inputId}-error`, ...rest };
    inputs[name] = options
      ? h("select", attrs, options.map((o) => h("option", { value: o, selected: o === value }, t(`option_${o || "any"}`))))
      : type === "textarea" ? h("textarea", { ...attrs, rows: 3 }, value)
        : h("input", { ...attrs, type, value });
    return h("div", { class: "field" }, h("label", { for: inputId }, label), inputs[name], errors[name]);
  });
  const el = h("form", { class: "admin-form", id }, rows, h("button", { type: "submit" }, submitLabel), general);
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    Object.values(errors).forEach((e) => { e.textContent = ""; });
    Object.values(inputs).forEach((i) => i.removeAttribute("aria-invalid"));
    general.textContent = "";
    const values = Object.fromEntries(Object.entries(inputs).map(([k, i]) => [k, i.value]));
    try {
      await onSubmit(values);
    } catch (err) {
      for (const [field, message] of Object.entries(fieldErrors(err))) {
        if (errors[field]) { errors[field].textContent = message; inputs[field].setAttribute("aria-invalid", "true"); }
        else general.textContent = message;
      }
    }
  });
  return el;
}

function grid(caption, head, rows) {
  return h("table", { class: "admin-table" }, h("caption", { class: "sr-only" }, caption),
    h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, rows));
}

async function act(promise, done) {
  try { await promise; announce(done); return true; } catch (err) { announce(err.message); alert(err.message); return false; }
}

export async function renderAdministration(main, tab) {
  const current = TABS.find(([name]) => name === tab) || TABS[0];
  const pane = h("div", { class: "admin-pane", id: `admin-${current[0]}` });
  main.replaceChildren(h("div", { class: "admin" },
    h("nav", { class: "admin-tabs", "aria-label": t("adminSections") }, TABS.map(([name, label]) =>
      h("a", { href: `#/admin/${name}`, "aria-current": name === current[0] ? "page" : null }, t(label)))),
    pane));
  await current[2](pane);
}

async function renderWebhooks(pane) {
  const panel = await webhooksPanel().catch(() => h("p", { class: "empty" }, t("webhooksOff")));
  pane.replaceChildren(h("section", { class: "panel" }, h("h2", {}, t("adminWebhooks")), panel));
}

async function renderAgents(pane) {
  const { items } = await api("GET", "/agents");
  const reload = () => renderAgents(pane);
  const rows = items.map((a) => {
    const role = h("select", { "aria-label": `${t("role")} ${a.id}` }, ["agent", "admin"].map((r) => h("option", { value: r, selected: a.role === r }, t(`option_${r}`))));
    role.addEventListener("change", () => act(api("PUT", `/agents/${a.id}/role`, { role: role.value }), t("saved")).then(reload));
    const capacity = h("input", { type: "number", min: 0, max: 1000, value: a.capacity, "aria-label": `${t("capacity")} ${a.id}`, class: "narrow" });
    capacity.addEventListener("change", () => act(api("PUT", `/agents/${a.id}/capacity`, { capacity: Number(capacity.value) }), t("saved")));
    const slack = h("input", { type: "text", value: a.slack_user_id || "", placeholder: "U0123ABCD", "aria-label": `${t("slackUser")} ${a.id}`, class: "narrow" });
    slack.addEventListener("change", () => act(api("PATCH", `/agents/${a.id}`, { slack_user_id: slack.value.trim() || null }), t("saved")));
    const toggle = h("button", { type: "button", class: a.disabled ? "" : "danger", onclick: () =>
      act(api("POST", `/agents/${a.id}/${a.disabled ? "enable" : "disable"}`), t("saved")).then(reload) },
    a.disabled ? t("enable") : t("disable"));
    return h("tr", { "data-agent": a.id, class: a.disabled ? "disabled" : null },
      h("td", {}, a.name || a.id, h("br"), h("span", { class: "meta" }, a.email || "")), h("td", {}, role),
      h("td", {}, capacity), h("td", {}, slack), h("td", {}, a.disabled ? t("disabled") : a.online ? t("online") : t("offline")),
      h("td", {}, `${a.load}/${a.capacity}`), h("td", {}, toggle));
  });
  const add = form("add-agent", [
    { name: "email", label: t("email"), type: "email", required: true },
    { name: "name", label: t("name") },
    { name: "role", label: t("role"), options: ["agent", "admin"], value: "agent" },
    { name: "password", label: t("firstPassword"), type: "password", autocomplete: "new-password", required: true },
    { name: "capacity", label: t("capacity"), type: "number", value: "5" },
  ], t("addAgent"), async (v) => {
    await api("POST", "/agents", { ...v, capacity: Number(v.capacity) });
    announce(t("saved"));
    await reload();
  });
  pane.replaceChildren(
    h("section", { class: "panel" }, h("h2", {}, t("adminAgents")),
      grid(t("adminAgents"), [t("name"), t("role"), t("capacity"), t("slackUser"), t("presence"), t("load"), ""], rows)),
    h("section", { class: "panel" }, h("h2", {}, t("addAgent")), add));
}

async function renderKb(pane) {
  const { items } = await api("GET", "/kb");
  const editor = h("div", { id: "kb-editor" });
  const edit = (entry) => {
    const isNew = !entry;
    const fields = [
      ...(isNew ? [{ name: "id", label: t("id"), required: true, pattern: "[a-z0-9][a-z0-9_-]*" }] : []),
      { name: "questions", label: t("questions"), type: "textarea", value: entry ? entry.questions.join("\n") : "", required: true },
      { name: "answer", label: t("answer"), type: "textarea", value: entry ? entry.answer : "", required: true },
      { name: "links", label: t("links"), type: "textarea", value: entry ? entry.links.map((l) => `${l.title} | ${l.url}`).join("\n") : "" },
      { name: "language", label: t("entryLanguage"), options: ["", "en", "zh"], value: entry ? entry.language || "" : "" },
    ];
    editor.replaceChildren(h("h3", {}, isNew ? t("addEntry") : `${t("edit")} ${entry.id}`),
      form("kb-form", fields, t("save"), async (v) => {
        const body = {
          questions: v.questions.split("\n").map((q) => q.trim()).filter(Boolean),
          answer: v.answer,
          links: v.links.split("\n").filter((l) => l.trim()).map((l) => {
            const [title, url] = l.includes("|") ? l.split("|").map((x) => x.trim()) : [l.trim(), l.trim()];
            return { title, url };
          }),
          language: v.language || null,
        };
        if (isNew) await api("POST", "/kb", { id: v.id, ...body });
        else await api("PUT", `/kb/${entry.id}`, body);
        announce(t("saved"));
        await renderKb(pane);
      }));
    editor.querySelector("textarea, input").focus();
  };
  const rows = items.map((e) => h("tr", { "data-entry": e.id },
    h("td", {}, e.id), h("td", {}, e.questions.join(" · ")), h("td", {}, e.answer),
    h("td", {}, t(`option_${e.language || "any"}`)),
    h("td", {}, h("button", { type: "button", class: "link", onclick: () => edit(e) }, t("edit")),
      h("button", { type: "button", class: "danger", onclick: async () => {
        if (confirm(`${t("delete")} ${e.id}?`) && await act(api("DELETE", `/kb/${e.id}`), t("deleted"))) renderKb(pane);
      } }, t("delete")))));
  const question = h("input", { id: "kb-try", type: "search", "aria-describedby": "kb-try-result" });
  const result = h("div", { id: "kb-try-result", "aria-live": "polite" });
  const tryForm = h("form", { class: "admin-form inline" }, h("label", { for: "kb-try" }, t("tryIt")), question,
    h("button", { type: "submit" }, t("tryButton")), result);
  tryForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!question.value.trim()) return;
    const found = await api("GET", `/kb/search?${new URLSearchParams({ q: question.value })}`);
    result.replaceChildren(found.items.length ? grid(t("tryIt"), [t("id"), t("question"), t("confidence"), ""], found.items.map((m) =>
      h("tr", {}, h("td", {}, m.id), h("td", {}, m.question), h("td", {}, `${Math.round(m.confidence * 100)}%`),
        h("td", {}, m.answers ? t("botAnswers") : t("belowThreshold"))))) : h("p", { class: "empty" }, t("noMatch")));
  });
  pane.replaceChildren(
    h("section", { class: "panel" }, h("h2", {}, t("adminKb")), tryForm),
    h("section", { class: "panel" }, grid(t("adminKb"), [t("id"), t("questions"), t("answer"), t("entryLanguage"), ""], rows),
      h("button", { type: "button", onclick: () => edit(null) }, t("addEntry")), editor));
}

async function renderChannels(pane) {
  const resp = await fetch("/readyz");
  const ready = await resp.json();
  const checks = Object.entries(ready.checks).map(([name, state]) => h("tr", {}, h("td", {}, name), h("td", {}, state)));
  const channels = Object.entries(ready.channels || {}).map(([name, state]) => h("tr", { "data-channel": name },
    h("td", {}, name), h("td", {}, h("pre", { class: "config" }, JSON.stringify(state, null, 2)))));
  pane.replaceChildren(h("section", { class: "panel" }, h("h2", {}, `${t("adminChannels")}: ${t(`ready_${ready.status}`)}`),
    grid(t("checks"), [t("check"), t("status")], checks),
    channels.length ? grid(t("adminChannels"), [t("channel"), t("status")], channels) : h("p", { class: "meta" }, t("noPolling"))));
}

async function renderTokens(pane) {
  const { items } = await api("GET", "/service-tokens");
  const secret = h("div", { id: "token-secret", "aria-live": "polite" });
  const create = form("token-form", [
    { name: "name", label: t("name"), required: true },
    { name: "role", label: t("role"), options: ["agent", "viewer", "admin"], value: "agent" },
    { name: "scopes", label: t("scopes"), placeholder: "conversations:read, kb:read", required: true },
  ], t("createToken"), async (v) => {
    const made = await api("POST", "/service-tokens", { name: v.name, role: v.role,
      scopes: v.scopes.split(",").map((s) => s.trim()).filter(Boolean) });
    await renderTokens(pane);
    pane.querySelector("#token-secret").replaceChildren(h("p", {}, t("shownOnce")), h("code", { class: "secret" }, made.token));
  });
  const rows = items.map((tok) => h("tr", { "data-token": tok.id }, h("td", {}, tok.name), h("td", {}, tok.role),
    h("td", {}, tok.scopes.join(", ")), h("td", {}, tok.created_by), h("td", {}, tok.revoked_at ? `${t("revoked")} ${when(tok.revoked_at)}` :
      h("button", { type: "button", class: "danger", onclick: async () => {
        if (await act(api("DELETE", `/service-tokens/${tok.id}`), t("revoked"))) renderTokens(pane);
      } }, t("revoke")))));
  pane.replaceChildren(h("section", { class: "panel" }, h("h2", {}, t("adminTokens")),
    grid(t("adminTokens"), [t("name"), t("role"), t("scopes"), t("who"), ""], rows)),
  h("section", { class: "panel" }, h("h2", {}, t("createToken")), create, secret));
}

async function renderAudit(pane, filters = {}) {
  const params = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
  const list = h("div", { id: "audit-list" });
  const filter = form("audit-form", [
    { name: "who", label: t("who"), value: filters.who || "" },
    { name: "action", label: t("action"), value: filters.action || "", placeholder: "POST /api/v1/agents" },
    { name: "since", label: t("since"), type: "datetime-local", value: filters.sinceLocal || "" },
    { name: "until", label: t("until"), type: "datetime-local", value: filters.untilLocal || "" },
  ], t("filter"), async (v) => {
    const iso = (local) => (local ? new Date(local).toISOString() : "");
    await renderAudit(pane, { who: v.who, action: v.action, since: iso(v.since), until: iso(v.until), sinceLocal: v.since, untilLocal: v.until });
  });
  params.delete("sinceLocal");
  params.delete("untilLocal");
  pane.replaceChildren(h("section", { class: "panel" }, h("h2", {}, t("adminAudit")), filter, list));
  const { items } = await api("GET", `/audit?${params}`);
  list.replaceChildren(items.length ? grid(t("adminAudit"), [t("when"), t("who"), t("action"), t("target"), t("status")], items.map((e) =>
    h("tr", {}, h("td", {}, when(e.at)), h("td", {}, e.who), h("td", {}, e.action),
      h("td", {}, Object.entries(e.target).map(([k, v]) => `${k}=${v}`).join(" ")), h("td", {}, e.status)))) : h("p", { class: "empty" }, t("noData")));
}
