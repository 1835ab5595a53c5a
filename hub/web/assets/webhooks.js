// The admin page's webhook endpoints: list, create (the secret shown once), pause or
// resume, delete, and dead letters with replay.
import { announce, h, when } from "./dom.js";
import { api } from "./session.js";
import { t } from "./strings.js";

const EVENTS = [
  "message.created", "message.updated", "conversation.created", "conversation.status_changed",
  "conversation.assigned", "contact.created", "contact.merged", "comment.published",
  "comment.held", "comment.rejected",
];

export async function webhooksPanel() {
  const panel = h("div", { class: "webhooks" });
  await refresh(panel);
  return panel;
}

async function refresh(panel, revealed = null) {
  const [endpoints, dead] = await Promise.all([
    api("GET", "/webhooks/endpoints"), api("GET", "/webhooks/dead-letters?limit=50"),
  ]);
  const rows = endpoints.items.map((e) => h("tr", { "data-id": e.id },
    h("td", {}, e.url), h("td", {}, e.events.join(", ")),
    h("td", {}, e.active ? t("whActive") : e.flagged ? t("whFlagged") : t("whPaused")),
    h("td", {},
      h("button", { type: "button", onclick: () => change(panel, "PATCH", e, { active: !e.active }, e.active ? t("whPausedDone") : t("whResumedDone")) }, e.active ? t("whPause") : t("whResume")),
      h("button", { type: "button", class: "danger", onclick: () => change(panel, "DELETE", e, undefined, t("whDeletedDone")) }, t("delete")))));
  const deadRows = dead.items.map((d) => h("tr", { "data-id": d.id },
    h("td", {}, d.event_type), h("td", {}, d.event_id), h("td", {}, d.reason || ""),
    h("td", {}, d.failed_at ? when(d.failed_at) : ""),
    h("td", {}, h("button", { type: "button", onclick: async () => {
      try { await api("POST", `/webhooks/dead-letters/${encodeURIComponent(d.id)}/replay`); announce(t("whReplayed")); await refresh(panel); }
      catch (err) { announce(err.message); }
    } }, t("whReplay")))));
  const table = (caption, head, body) => h("table", {},
    h("caption", { class: "sr-only" }, caption),
    h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, body));
  // replaceChildren writes a null as the text "null", so the notice is left out instead.
  panel.replaceChildren(...[
    revealed ? h("p", { class: "notice", role: "status" }, t("whSecretShown"),
      h("code", { class: "secret", "aria-label": t("whSecret") }, revealed)) : null,
    table(t("whEndpoints"), [t("whUrl"), t("whEvents"), t("whState"), ""], rows.length ? rows
      : [h("tr", {}, h("td", { colspan: 4, class: "empty" }, t("whNoEndpoints")))]),
    createForm(panel),
    h("h3", {}, t("whDead")),
    table(t("whDead"), [t("whEvent"), t("whEventId"), t("whReason"), t("whFailed"), ""], deadRows.length ? deadRows
      : [h("tr", {}, h("td", { colspan: 5, class: "empty" }, t("whNoDead")))]),
  ].filter(Boolean));
}

async function change(panel, method, endpoint, body, done) {
  try {
    await api(method, `/webhooks/endpoints/${encodeURIComponent(endpoint.id)}`, body);
    announce(done);
    await refresh(panel);
  } catch (err) { announce(err.message); }
}

function createForm(panel) {
  const url = h("input", { id: "webhook-url", type: "url", required: true, placeholder: "https://crm.example.com/chorus" });
  const boxes = EVENTS.map((name) => h("input", { type: "checkbox", value: name, checked: true, id: `webhook-event-${name}` }));
  const form = h("form", { class: "webhook-new", "aria-label": t("whNew") },
    h("label", { for: "webhook-url" }, t("whUrlLabel")), url,
    h("fieldset", {}, h("legend", {}, t("whEvents")),
      boxes.map((box) => h("label", { for: box.id }, box, box.value))),
    h("button", { type: "submit" }, t("whAdd")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const events = boxes.filter((b) => b.checked).map((b) => b.value);
    try {
      const created = await api("POST", "/webhooks/endpoints", { url: url.value, events });
      announce(t("whAdded"));
      await refresh(panel, created.secret);
    } catch (err) { announce(err.message); url.focus(); }
  });
  return form;
}
