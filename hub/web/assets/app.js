// The inbox's shell: login page, top navigation and hash routes.
import { h } from "./dom.js";
import { current, login, logout } from "./session.js";
import { InboxView } from "./inbox.js";
import { renderModeration } from "./pages.js";
import { renderAdministration } from "./admin.js";
import { renderReports } from "./reports.js";
import { languageSwitch, startTranslating } from "./i18n.js";
import { installShortcuts } from "./shortcuts.js";

startTranslating();
installShortcuts(() => Boolean(current()) && !location.hash.startsWith("#/login"));

const main = document.getElementById("main");
const top = document.getElementById("top");
let inbox = null;

function renderLogin() {
  top.hidden = true;
  const error = h("p", { id: "login-error", class: "error", role: "alert" });
  const email = h("input", { id: "email", type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "password", type: "password", name: "password", autocomplete: "current-password", required: true });
  const form = h("form", { class: "login", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, "Chorus inbox"),
    h("label", { for: "email" }, "Email"), email,
    h("label", { for: "password" }, "Password"), password,
    h("button", { type: "submit" }, "Log in"),
    error, languageSwitch());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      await login(email.value, password.value);
      location.hash = "#/";
      route();
    } catch (err) {
      error.textContent = err.code === "rate_limited" ? "Too many attempts, wait a moment."
        : "Wrong email or password.";
      password.select();
      password.focus();
    }
  });
  main.replaceChildren(form);
  email.focus();
}

function renderTop(page) {
  const me = current().agent;
  const link = (href, label, name) => h("a", { href, "aria-current": page === name ? "page" : null }, label);
  top.replaceChildren(
    h("span", { class: "brand" }, "Chorus"),
    h("nav", { "aria-label": "Sections" },
      link("#/", "Inbox", "inbox"),
      link("#/moderation", "Moderation", "moderation"),
      link("#/reports", "Reports", "reports"),
      me.role === "admin" ? link("#/admin", "Admin", "admin") : null),
    h("span", { class: "live", id: "live-state" }, "connecting…"),
    h("span", { class: "me" }, `${me.name || me.id} (${me.role})`),
    languageSwitch(),
    h("button", { type: "button", class: "link", onclick: async () => {
      if (inbox) inbox.close();
      inbox = null;
      await logout();
      location.hash = "#/login";
      route();
    } }, "Log out"));
  top.hidden = false;
}

function route() {
  if (!current()) { if (inbox) { inbox.close(); inbox = null; } renderLogin(); return; }
  const hash = location.hash || "#/";
  const pages = ["moderation", "admin", "reports"];
  const page = pages.find((name) => hash.startsWith(`#/${name}`)) || "inbox";
  renderTop(page);
  if (!inbox) inbox = new InboxView(() => { location.hash = "#/login"; route(); });
  inbox.showLiveState();
  if (page === "moderation") renderModeration(main);
  else if (page === "admin") renderAdministration(main, hash.split("/")[2] || "agents");
  else if (page === "reports") renderReports(main);
  else inbox.mount(main, hash.startsWith("#/c/") ? decodeURIComponent(hash.slice(4)) : null);
}

window.addEventListener("hashchange", route);
route();
