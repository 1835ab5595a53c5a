// A message's history: "edited" opens every earlier version; a deletion shows a tombstone.
import { h, when } from "./dom.js";

// The message's text, or the tombstone of a message its sender deleted.
export function messageText(m) {
  if (m.deleted_at) return h("p", { class: "text tombstone" }, h("span", { class: "badge" }, "deleted"), " This message was deleted by its sender.");
  return h("p", { class: "text" }, m.text);
}

// "edited" (a button showing the earlier versions, oldest first), or nothing.
export function historyToggle(m) {
  const edits = m.edits || [];
  if (!edits.length || (m.deleted_at && edits.length === 1)) return null;
  const list = h("ol", { class: "history", "aria-label": "Earlier versions", hidden: true },
    edits.map((e) => h("li", {}, h("time", { datetime: e.edited_at }, `replaced ${when(e.edited_at)}`), " ", h("q", {}, e.text))));
  const button = h("button", { type: "button", class: "link edited", "aria-expanded": "false", onclick: () => {
    list.hidden = !list.hidden;
    button.setAttribute("aria-expanded", String(!list.hidden));
  } }, "edited");
  return [button, list];
}
