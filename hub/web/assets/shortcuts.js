// Inbox keyboard shortcuts, listed by "?". They act on the page as it is (the list's
// links, the composer, the header's buttons), so they follow whatever the inbox renders.
// While a field has the focus only Escape counts: it leaves the field.
import { h } from "./dom.js";
import { tr } from "./i18n.js";

export const SHORTCUTS = [
  ["j", "Next conversation"], ["k", "Previous conversation"], ["r", "Reply"],
  ["n", "Private note"], ["e", "Resolve"], ["/", "Search"], ["?", "Keyboard shortcuts"],
  ["Esc", "Leave the field or close this list"],
];

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

function step(by) {
  const links = [...document.querySelectorAll(".conversations .conversation a")];
  if (!links.length) return;
  const at = links.findIndex((a) => a.getAttribute("aria-current") === "true");
  const next = links[Math.max(0, Math.min(links.length - 1, at === -1 ? 0 : at + by))];
  location.hash = next.getAttribute("href");
}

function compose(privately) {
  const reply = document.getElementById("reply");
  const note = document.getElementById("private");
  if (!reply) return;
  if (note) note.checked = privately;
  reply.focus();
}

function resolve() {
  const buttons = [...document.querySelectorAll(".detail-head .actions button")];
  const button = buttons.find((b) => b.textContent === tr("Resolve"));
  if (button) button.click();
}

let dialog = null;
function toggleHelp() {
  if (dialog) { closeHelp(); return; }
  const opener = document.activeElement;
  const close = h("button", { type: "button", onclick: () => closeHelp() }, "Close");
  dialog = h("div", { class: "shortcuts", role: "dialog", "aria-modal": "true", "aria-labelledby": "shortcuts-title" },
    h("h2", { id: "shortcuts-title" }, "Keyboard shortcuts"),
    h("dl", {}, SHORTCUTS.flatMap(([key, what]) => [h("dt", {}, h("kbd", {}, key)), h("dd", {}, what)])),
    close);
  dialog.opener = opener;
  document.body.append(dialog);
  close.focus();
}

function closeHelp() {
  const opener = dialog.opener;
  dialog.remove();
  dialog = null;
  if (opener && opener.focus) opener.focus();
}

const ACTIONS = { j: () => step(1), k: () => step(-1), r: () => compose(false), n: () => compose(true),
  e: resolve, "/": () => { const s = document.getElementById("search"); if (s) s.focus(); }, "?": toggleHelp };

export function installShortcuts(active) {
  document.addEventListener("keydown", (event) => {
    if (!active() || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      if (dialog) closeHelp();
      else if (typing(event.target)) event.target.blur();
      return;
    }
    if (typing(event.target) || (dialog && event.key !== "?")) return;
    const action = ACTIONS[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });
}
