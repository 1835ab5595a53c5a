// The moderation queue and the admin page.
import { announce, h, when } from "./dom.js";
import { api } from "./session.js";

function section(title, ...children) {
  const id = `h-${title.toLowerCase().replace(/\W+/g, "-")}`;
  return h("section", { class: "panel", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

export async function renderModeration(main) {
  const list = h("ul", { class: "queue", "aria-label": "Held comments" });
  main.replaceChildren(section("Moderation queue", list));
  const { items } = await api("GET", "/moderation/queue?limit=100");
  if (!items.length) list.append(h("li", { class: "empty" }, "Nothing is waiting for review."));
  for (const item of items) {
    const reason = h("input", { type: "text", "aria-label": "Reason", placeholder: "Reason (needed to reject)" });
    const row = h("li", { class: "held", "data-id": item.id },
      h("blockquote", {}, item.text),
      h("p", { class: "meta" }, `${item.author.name || "anonymous"} · ${when(item.created_at)} · held by `,
        h("strong", { class: "reason" }, `${item.decision.stage}: ${item.decision.reason}`)),
      h("div", { class: "actions" }, reason,
        h("button", { type: "button", onclick: () => review("approve") }, "Approve"),
        h("button", { type: "button", class: "danger", onclick: () => review("reject") }, "Reject")));
    async function review(action) {
      try {
        await api("POST", `/moderation/${item.id}/${action}`, { reason: reason.value });
        row.replaceChildren(h("p", { class: "done" }, action === "approve" ? "Approved" : "Rejected"));
        announce(`Comment ${action === "approve" ? "approved" : "rejected"}`);
      } catch (err) {
        announce(err.message);
        reason.focus();
      }
    }
    list.append(row);
  }
}

export async function renderAdmin(main) {
  const [agents, kb, config] = await Promise.all([
    api("GET", "/agents"), api("GET", "/kb").catch(() => ({ items: [] })), api("GET", "/config"),
  ]);
  const agentRows = agents.items.map((a) => h("tr", {},
    h("td", {}, a.name || a.id), h("td", {}, a.email || ""), h("td", {}, a.role),
    h("td", {}, a.online ? "online" : "offline"), h("td", {}, `${a.load}/${a.capacity}`)));
  const kbRows = kb.items.map((e) => h("tr", {},
    h("td", {}, e.id), h("td", {}, e.questions[0]), h("td", {}, e.answer)));
  const table = (caption, head, rows) => h("table", {},
    h("caption", { class: "sr-only" }, caption),
    h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, rows));
  main.replaceChildren(h("div", { class: "admin" },
    section("Agents", table("Agents", ["Name", "Email", "Role", "Presence", "Load"], agentRows)),
    section("Knowledge base", table("Knowledge base", ["Id", "Question", "Answer"], kbRows)),
    section("Configuration (read-only, secrets masked)",
      h("pre", { class: "config", tabindex: "0" }, JSON.stringify(config, null, 2)))));
}
