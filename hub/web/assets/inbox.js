// The conversation list (tabs, filters, live updates, unread counts, SLA badges) and the
// open conversation (thread, composer with canned responses, claim/assign/resolve/label
// actions, contact panel).
import { announce, channelBadge, h, when } from "./dom.js";
import { api, current, liveFeed } from "./session.js";
import { historyToggle, messageText } from "./history.js";
import { alertFor, alertSwitches, askPermissionOnce, raiseAlert } from "./notify.js";

const TABS = [
  ["mine", "Mine"], ["unassigned", "Unassigned"], ["all", "All"], ["resolved", "Resolved"],
];

function inTab(tab, c, me) {
  if (tab === "mine") return c.assignee === me && c.status !== "resolved";
  if (tab === "unassigned") return !c.assignee && c.status !== "resolved";
  if (tab === "resolved") return c.status === "resolved";
  return true;
}

// The router raises a waiting conversation's priority one step per SLA period
// (bot.assignment.sla_seconds), so the badge follows the server, not the browser's clock.
// Only http(s) URLs become links (the hub refuses others; this guards older data too).
// A file the hub keeps comes with short-lived signed links: images show their thumbnail.
function attachmentLink(a) {
  const label = a.name || a.kind;
  if (a.download_url) {
    return h("a", { class: "attachment", href: a.download_url, rel: "noopener noreferrer", target: "_blank" },
      a.thumbnail_url ? h("img", { class: "thumb", src: a.thumbnail_url, alt: label }) : label);
  }
  if (!/^https?:\/\//i.test(a.url || "")) return h("span", { class: "attachment" }, label);
  return h("a", { href: a.url, rel: "noopener noreferrer", target: "_blank" }, label);
}

function slaBadge(c) {
  if (!c.priority || c.status === "resolved") return null;
  const text = c.priority === 1 ? "SLA missed" : `SLA missed ×${c.priority}`;
  return h("span", { class: `sla sla-${Math.min(c.priority, 3)}`, title: "Waiting longer than the response target" }, text);
}

export class InboxView {
  constructor(onLoggedOut) {
    this.onLoggedOut = onLoggedOut;
    this.conversations = new Map();
    this.unread = new Map();
    this.tab = "all";
    this.filters = { channel: "", status: "", label: "" };
    this.search = "";
    this.openId = null;
    this.thread = null;
    this.canned = [];
    this.agents = [];
    this.loaded = this.load();
    askPermissionOnce();
    this.liveState = "connecting…";
    this.dropped = false;
    this.feed = liveFeed((frame) => this.onFrame(frame), (state) => {
      this.liveState = state === "live" ? "● live" : "○ reconnecting";
      this.showLiveState();
      if (state !== "live") this.dropped = true;
      else if (this.dropped) { this.dropped = false; this.resync(); }
    }, () => this.onLoggedOut());
  }

  close() { this.feed.close(); }

  showLiveState() {
    const el = document.getElementById("live-state");
    if (el) el.textContent = this.liveState;
  }

  async load() {
    const [all, resolved, canned, agents] = await Promise.all([
      api("GET", "/conversations?limit=200"),
      api("GET", "/conversations?status=resolved&limit=100"),
      api("GET", "/canned_responses").catch(() => ({ items: [] })),
      api("GET", "/agents").catch(() => ({ items: [] })),
    ]);
    for (const c of [...all.items, ...resolved.items]) this.conversations.set(c.id, c);
    this.canned = canned.items;
    this.agents = agents.items;
    this.readMarks = await readMarks();
    // Names and previews come from the recent messages: the list endpoint has neither.
    const since = new Date(Date.now() - 14 * 86400e3).toISOString();
    const recent = await api("GET", `/messages?limit=200&since=${encodeURIComponent(since)}`).catch(() => ({ items: [] }));
    for (const m of recent.items) this.learn(m);
    this.countUnread(recent.items);
  }

  // Back after the feed was down: what was stored meanwhile came with no frame, so the
  // list (and the open conversation's messages) are read again; a draft reply stays.
  async resync() {
    await this.loaded;
    this.unread.clear();  // counted again from the messages and the stored read marks
    this.loaded = this.load();
    await this.loaded;
    this.renderList();
    if (!this.openId || !this.thread) return;
    const id = this.openId;
    const messages = await api("GET", `/conversations/${encodeURIComponent(id)}/messages?limit=200`);
    if (id !== this.openId) return;
    for (const m of messages.items) { this.appendMessage(m); this.learn(m); }
    this.renderSeen();
  }

  learn(m) {
    const c = this.conversations.get(m.conversation_id);
    if (!c) return;
    if (!m.private) c.preview = m.text;
    if (m.direction === "inbound" && m.author.name) c.contact_name = m.author.name;
  }

  async mount(main, openId) {
    this.main = main;
    if (!openId) this.openId = null; // the list alone: new messages count as unread
    this.showLiveState();
    this.list = h("ul", { class: "conversations", "aria-label": "Conversations" });
    this.tabs = h("div", { role: "tablist", "aria-label": "Views", class: "tabs" });
    this.detail = h("section", { class: "detail", "aria-label": "Conversation" },
      h("p", { class: "empty" }, "Pick a conversation."));
    const select = (name, label, options) => {
      const el = h("select", { id: `filter-${name}`, onchange: () => { this.filters[name] = el.value; this.renderList(); } },
        h("option", { value: "" }, label), options.map((o) => h("option", { value: o, selected: this.filters[name] === o }, o)));
      return [h("label", { for: `filter-${name}`, class: "sr-only" }, label), el];
    };
    // Labels are whatever agents have used, so their options follow the list.
    this.labelFilter = h("select", { id: "filter-label", onchange: () => { this.filters.label = this.labelFilter.value; this.renderList(); } });
    const search = h("input", { id: "search", type: "search", placeholder: "Search", value: this.search,
      oninput: () => { this.search = search.value.toLowerCase(); this.renderList(); } });
    main.replaceChildren(h("div", { class: "inbox" },
      h("aside", { class: "sidebar", "aria-label": "Conversation list" }, this.tabs,
        h("div", { class: "filters" },
          select("channel", "Channel", ["web", "telegram", "slack", "twitter"]),
          select("status", "Status", ["bot", "open", "pending", "resolved"]),
          h("label", { for: "filter-label", class: "sr-only" }, "Label"), this.labelFilter,
          h("label", { for: "search", class: "sr-only" }, "Search conversations"), search),
        alertSwitches(),
        this.list),
      this.detail));
    await this.loaded;
    this.renderList();
    if (openId) await this.open(openId);
  }

  renderTabs() {
    const me = current().agent.id;
    this.tabs.replaceChildren(...TABS.map(([key, label]) => {
      const unread = [...this.conversations.values()]
        .filter((c) => inTab(key, c, me)).reduce((n, c) => n + (this.unread.get(c.id) || 0), 0);
      return h("button", { type: "button", role: "tab", id: `tab-${key}`, "aria-selected": String(this.tab === key),
        onclick: () => { this.tab = key; this.renderList(); document.getElementById(`tab-${key}`).focus(); } },
      label, unread ? h("span", { class: "count", "aria-label": `${unread} unread` }, unread) : null);
    }));
  }

  visible() {
    const me = current().agent.id;
    return [...this.conversations.values()]
      .filter((c) => inTab(this.tab, c, me))
      .filter((c) => !this.filters.channel || c.channel === this.filters.channel)
      .filter((c) => !this.filters.status || c.status === this.filters.status)
      .filter((c) => !this.filters.label || c.labels.includes(this.filters.label))
      .filter((c) => !this.search || `${c.preview || ""} ${c.contact_id} ${c.labels.join(" ")}`.toLowerCase().includes(this.search))
      .sort((a, b) => b.last_message_at.localeCompare(a.last_message_at));
  }

  renderLabelFilter() {
    const labels = [...new Set([...this.conversations.values()].flatMap((c) => c.labels))].sort();
    if (this.filters.label && !labels.includes(this.filters.label)) labels.push(this.filters.label);
    this.labelFilter.replaceChildren(h("option", { value: "" }, "Label"),
      ...labels.map((l) => h("option", { value: l, selected: this.filters.label === l }, l)));
  }

  renderList() {
    if (!this.list) return;
    this.renderTitle();
    this.renderTabs();
    this.renderLabelFilter();
    const items = this.visible();
    this.list.replaceChildren(...items.map((c) => {
      const unread = this.unread.get(c.id) || 0;
      return h("li", { class: `conversation${c.id === this.openId ? " selected" : ""}`, "data-id": c.id },
        h("a", { href: `#/c/${encodeURIComponent(c.id)}`, "aria-current": c.id === this.openId ? "true" : null },
          h("span", { class: "row" }, channelBadge(c.channel),
            h("span", { class: "who" }, c.contact_name || `Contact ${c.contact_id.slice(-6)}`),
            h("time", { datetime: c.last_message_at }, when(c.last_message_at))),
          h("span", { class: "row" }, h("span", { class: "preview" }, c.preview || ""),
            unread ? h("span", { class: "count unread", "aria-label": `${unread} unread` }, unread) : null),
          h("span", { class: "row tags" }, h("span", { class: `status status-${c.status}` }, c.status), slaBadge(c),
            c.assignee ? h("span", { class: "assignee" }, `@${c.assignee}`) : null,
            c.labels.map((l) => h("span", { class: "label" }, l)))));
    }));
    if (!items.length) this.list.append(h("li", { class: "empty" }, "No conversations here."));
  }

  onFrame(frame) {
    if (this.onPresence(frame)) return;
    if (frame.type === "error" && frame.code === "token_expired") return;
    if (!frame.conversation) return;
    const known = this.conversations.get(frame.conversation.id) || {};
    this.maybeAlert(frame, known);
    const c = { ...known, ...frame.conversation };
    this.conversations.set(c.id, c);
    if (frame.message) this.learn(frame.message);
    if (frame.message) {
      if (c.id === this.openId) { this.appendMessage(frame.message, frame.type === "message_files"); this.readOpen(frame.message); }
      else if (frame.type === "message" && frame.message.direction === "inbound") this.unread.set(c.id, (this.unread.get(c.id) || 0) + 1);
    }
    if (c.id === this.openId) this.renderHeader(c);
    this.renderList();
  }

  async open(id) {
    this.openId = id;
    this.unread.delete(id);
    this.markRead(id);
    const [c, messages] = await Promise.all([
      api("GET", `/conversations/${encodeURIComponent(id)}`),
      api("GET", `/conversations/${encodeURIComponent(id)}/messages?limit=200`),
    ]);
    const known = this.conversations.get(id) || {};
    this.conversations.set(id, { ...known, ...c, contact_name: c.contact_name || known.contact_name });
    this.header = h("header", { class: "detail-head" });
    this.thread = h("ol", { class: "thread", "aria-label": "Messages", "aria-live": "polite" });
    this.contact = h("aside", { class: "contact", "aria-label": "Contact" });
    this.typingNote = h("p", { class: "typing", role: "status", hidden: true });
    this.detail.replaceChildren(this.header, h("div", { class: "detail-body" },
      h("div", { class: "detail-main" }, this.thread, this.typingNote, this.composer()), this.contact));
    this.renderHeader(this.conversations.get(id));
    for (const m of messages.items) this.appendMessage(m);
    for (const m of messages.items) this.learn(m);
    this.renderSeen();
    this.renderList();
    this.renderContact(this.conversations.get(id)).then(() => this.renderProfile(id));
    document.getElementById("reply").focus();
  }

  renderHeader(c) {
    const action = (label, run) => h("button", { type: "button", onclick: async () => {
      try { this.onFrame({ conversation: await run() }); announce(`${label} done`); } catch (err) { announce(err.message); }
    } }, label);
    const me = current().agent.id;
    const others = this.agents.filter((a) => a.id !== c.assignee);
    const assignTo = h("select", { id: "assign-to", onchange: async () => {
      if (!assignTo.value) return;
      try {
        this.onFrame({ conversation: await api("POST", `/conversations/${c.id}/assign`, { agent_id: assignTo.value }) });
        announce("Assigned");
      } catch (err) { assignTo.value = ""; announce(err.message); }
    } }, h("option", { value: "" }, "Assign to…"), others.map((a) => h("option", { value: a.id }, a.name || a.id)));
    const labels = (change) => api("POST", `/conversations/${c.id}/labels`, change);
    const newLabel = h("input", { id: "add-label", placeholder: "Add label", size: 10, onkeydown: async (event) => {
      if (event.key !== "Enter" || !newLabel.value.trim()) return;
      event.preventDefault();
      try { this.onFrame({ conversation: await labels({ add: [newLabel.value.trim()] }) }); announce("Label added"); document.getElementById("add-label").focus(); }
      catch (err) { announce(err.message); }
    } });
    this.header.replaceChildren(...[
      h("h2", {}, channelBadge(c.channel), ` ${c.contact_name || `Contact ${c.contact_id.slice(-6)}`}`),
      h("span", { class: `status status-${c.status}`, id: "conv-status" }, c.status), slaBadge(c),
      h("span", { class: "assignee", id: "conv-assignee" }, c.assignee ? `Assigned to ${c.assignee}` : "Unassigned"),
      h("ul", { class: "conv-labels", "aria-label": "Labels" }, c.labels.map((l) => h("li", { class: "label" }, l,
        h("button", { type: "button", class: "remove", "aria-label": `Remove label ${l}`, onclick: async () => {
          try { this.onFrame({ conversation: await labels({ remove: [l] }) }); announce("Label removed"); } catch (err) { announce(err.message); }
        } }, "×")))),
      h("label", { for: "add-label", class: "sr-only" }, "Add label"), newLabel,
      h("div", { class: "actions" },
        c.status !== "resolved" && others.length ? [h("label", { for: "assign-to", class: "sr-only" }, "Assign to"), assignTo] : null,
        c.assignee !== me && c.status !== "resolved" ? action("Claim", () => api("POST", `/conversations/${c.id}/assign`)) : null,
        c.status !== "resolved" ? action("Resolve", () => api("PATCH", `/conversations/${c.id}`, { status: "resolved" }))
          : action("Reopen", () => api("PATCH", `/conversations/${c.id}`, { status: "open" }))),
    ].filter(Boolean));
  }

  // ``changed``: a shown message whose files were fetched from its platform since.
  appendMessage(m, changed = false) {
    const shown = this.thread.querySelector(`[data-id="${CSS.escape(m.id)}"]`);
    if (shown && !changed && !m.edits?.length && !m.deleted_at) return;
    const kind = m.private ? "note" : m.author.kind === "bot" ? "bot" : m.direction;
    const who = m.private ? "Private note" : m.author.kind === "bot" ? "Bot" : m.author.name || m.author.kind;
    const toggle = historyToggle(m);
    const item = h("li", { class: `msg msg-${kind}`, "data-id": m.id, "data-seq": m.seq },
      h("div", { class: "meta" }, channelBadge(m.channel), h("strong", {}, who),
        m.author.kind === "bot" ? h("span", { class: "badge" }, "bot answer") : null,
        h("time", { datetime: m.created_at }, when(m.created_at)), toggle && toggle[0]),
      messageText(m), toggle && toggle[1],
      h("div", { class: "files" }, m.attachments.map(attachmentLink)));
    if (shown) {
      shown.replaceWith(item);  // an edit or deletion of a shown message
    } else {
      this.thread.append(item);
      this.thread.lastElementChild.scrollIntoView({ block: "end" });
    }
    // The live feed carries no links to stored files: the API signs them for this agent.
    if (m.attachments.some((a) => a.media_id && !a.download_url)) this.signLinks(m.id);
  }

  async signLinks(id) {
    try {
      const m = await api("GET", `/messages/${encodeURIComponent(id)}`);
      const item = this.thread.querySelector(`[data-id="${CSS.escape(id)}"] .files`);
      if (item) item.replaceChildren(...m.attachments.map(attachmentLink));
    } catch (err) { announce(err.message); }
  }

  composer() {
    const text = h("textarea", { id: "reply", rows: 3, "aria-describedby": "reply-help" });
    const note = h("input", { id: "private", type: "checkbox" });
    const menu = h("ul", { id: "canned", role: "listbox", class: "canned", "aria-label": "Canned responses", hidden: true });
    const files = h("input", { id: "reply-files", type: "file", multiple: true, class: "files-input" });
    const chosen = h("span", { class: "help", "aria-live": "polite" });
    files.addEventListener("change", () => { chosen.textContent = [...files.files].map((f) => f.name).join(", "); });
    const send = async () => {
      const body = text.value.trim();
      if (!body && !files.files.length) return;
      // With files the reply goes as multipart/form-data; the hub checks and stores them.
      let payload = { text: body, private: note.checked, client_id: crypto.randomUUID() };
      if (files.files.length) {
        const form = new FormData();
        form.append("text", body);
        form.append("private", String(note.checked));
        form.append("client_id", payload.client_id);
        for (const f of files.files) form.append("file", f, f.name);
        payload = form;
      }
      try {
        const m = await api("POST", `/conversations/${this.openId}/messages`, payload);
        this.appendMessage(m);
        text.value = "";
        files.value = "";
        chosen.textContent = "";
        this.typingSentAt = 0;
        announce(note.checked ? "Note added" : "Reply sent");
      } catch (err) { announce(err.message); }
    };
    const pick = (item) => { text.value = item.text; menu.hidden = true; text.focus(); };
    text.addEventListener("input", () => {
      const match = /^\/(\S*)$/.exec(text.value);
      const found = match ? this.canned.filter((c) => c.shortcut.startsWith(match[1])) : [];
      menu.replaceChildren(...found.map((c, i) => h("li", { role: "option", id: `canned-${i}`, "aria-selected": String(i === 0),
        onmousedown: (e) => { e.preventDefault(); pick(c); } }, h("strong", {}, `/${c.shortcut}`), ` ${c.text}`)));
      menu.hidden = !found.length;
      text.setAttribute("aria-expanded", String(!menu.hidden));
    });
    text.addEventListener("input", () => { if (!note.checked) this.sendTyping(); });
    text.addEventListener("keydown", (event) => {
      if (!menu.hidden && (event.key === "Enter" || event.key === "Tab")) {
        event.preventDefault();
        const match = /^\/(\S*)$/.exec(text.value);
        const first = this.canned.find((c) => c.shortcut.startsWith(match ? match[1] : ""));
        if (first) pick(first);
      } else if (event.key === "Escape") menu.hidden = true;
      else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); send(); }
    });
    return h("form", { class: "composer", onsubmit: (e) => { e.preventDefault(); send(); } },
      h("label", { for: "reply" }, "Reply"), menu, text,
      h("p", { id: "reply-help", class: "help" }, "Type / for canned responses · Ctrl+Enter sends"),
      h("div", { class: "row" }, h("label", {}, note, " Private note"),
        h("label", { class: "attach" }, "Attach files ", files), chosen, h("button", { type: "submit" }, "Send")));
  }

  async renderContact(c) {
    const others = [...this.conversations.values()].filter((o) => o.contact_id === c.contact_id && o.id !== c.id);
    // The conversation carries the contact's name; email and identities are admin-only.
    const body = [h("h3", {}, "Contact"), h("p", { class: "contact-name" }, c.contact_name || "Unnamed")];
    if (current().agent.role === "admin") {
      try {
        const contact = await api("GET", `/contacts/${c.contact_id}`);
        body.push(contact.email ? h("p", {}, contact.email) : null,
          h("h4", {}, "Identities"), h("ul", {}, contact.identities.map((i) => h("li", {}, channelBadge(i.channel), ` ${i.handle || i.external_id}`))));
      } catch (err) { announce(err.message); }
    }
    body.push(h("h4", {}, "Earlier conversations"), others.length
      ? h("ul", {}, others.map((o) => h("li", {}, h("a", { href: `#/c/${o.id}` }, `${o.channel} · ${o.status} · ${when(o.last_message_at)}`))))
      : h("p", { class: "meta" }, "None"));
    this.contact.replaceChildren(...body.filter(Boolean));
  }

  // -- Presence: typing both ways, the customer's read receipt, the agent's read marks --

  // Typing and seen frames from the feed; true when the frame was one of them.
  onPresence(frame) {
    if (frame.type === "typing" && frame.who === "customer") {
      this.showTyping(frame.conversation_id, frame.expires_in_seconds);
      return true;
    }
    if (frame.type === "seen") {
      const c = this.conversations.get(frame.conversation_id);
      if (c) c.customer_seen_seq = Math.max(c.customer_seen_seq || 0, frame.seq || 0);
      if (frame.conversation_id === this.openId) this.renderSeen();
      return true;
    }
    return frame.type === "typing";
  }

  showTyping(conversationId, seconds) {
    if (conversationId !== this.openId || !this.typingNote) return;
    this.typingNote.textContent = "Customer is typing…";
    this.typingNote.hidden = false;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.hideTyping(), (seconds || 6) * 1000);
  }

  hideTyping() {
    clearTimeout(this.typingTimer);
    if (this.typingNote) this.typingNote.hidden = true;
  }

  // At most one typing frame every two seconds; the hub collapses more anyway.
  sendTyping() {
    const now = Date.now();
    if (!this.openId || now - (this.typingSentAt || 0) < 2000) return;
    this.typingSentAt = now;
    this.feed.send({ type: "typing", conversation_id: this.openId });
  }

  // "Seen" under the newest reply the customer was shown (their receipt's seq).
  renderSeen() {
    if (!this.thread) return;
    for (const old of this.thread.querySelectorAll(".seen")) old.remove();
    const c = this.conversations.get(this.openId);
    const upTo = c && c.customer_seen_seq;
    if (!upTo) return;
    const replies = [...this.thread.querySelectorAll(".msg-outbound[data-seq], .msg-bot[data-seq]")]
      .filter((li) => Number(li.dataset.seq) <= upTo);
    const last = replies[replies.length - 1];
    if (last) last.append(h("p", { class: "seen" }, "Seen"));
  }

  readOpen(m) {
    if (m.direction === "inbound") { this.hideTyping(); this.markRead(this.openId); }
    this.renderSeen();
  }

  maybeAlert(frame, known) {
    const title = alertFor(frame, known, current().agent.id);
    const c = frame.conversation;
    if (title) raiseAlert(title, (frame.message && frame.message.text) || known.preview, c.id);
  }

  // The tab's title counts what is unread, so a background tab shows it too.
  renderTitle() {
    const total = [...this.unread.values()].reduce((n, k) => n + k, 0);
    document.title = total ? `(${total}) Chorus inbox` : "Chorus inbox";
  }

  markRead(id) {
    this.readMarks.set(id, new Date().toISOString());
    api("POST", `/conversations/${encodeURIComponent(id)}/read`).catch(() => {});
  }

  // Unread after a reload: the customer's recent messages newer than my read mark.
  countUnread(messages) {
    for (const m of messages) {
      if (m.direction !== "inbound" || m.private) continue;
      const mark = this.readMarks.get(m.conversation_id);
      if (mark && new Date(m.created_at) <= new Date(mark)) continue;
      this.unread.set(m.conversation_id, (this.unread.get(m.conversation_id) || 0) + 1);
    }
  }

  // -- The contact panel's editor: name and notes (agents, admins), email (admins), and
  // the contact's conversations with their ratings (GET/PATCH /contacts/{id}...) --
  async renderProfile(conversationId) {
    const c = this.conversations.get(conversationId);
    if (!c || conversationId !== this.openId) return;
    let profile;
    try { profile = await api("GET", `/contacts/${encodeURIComponent(c.contact_id)}/profile`); } catch (err) { announce(err.message); return; }
    const role = current().agent.role;
    const field = (name, label, value, tag = "input") => [h("label", { for: `contact-${name}` }, label),
      h(tag, { id: `contact-${name}`, name, value: tag === "input" ? value || "" : null, rows: tag === "textarea" ? 3 : null }, tag === "textarea" ? value || "" : null)];
    const editor = h("form", { class: "contact-editor", "aria-label": "Edit contact" },
      field("name", "Name", profile.name),
      role === "admin" ? field("email", "Email", profile.email) : null,
      field("notes", "Notes", profile.notes, "textarea"),
      h("button", { type: "submit" }, "Save contact"));
    editor.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { name: editor.elements.name.value.trim(), notes: editor.elements.notes.value };
      if (editor.elements.email && editor.elements.email.value.trim()) body.email = editor.elements.email.value.trim();
      try {
        const saved = await api("PATCH", `/contacts/${encodeURIComponent(c.contact_id)}`, body);
        for (const other of this.conversations.values()) if (other.contact_id === c.contact_id) other.contact_name = saved.name;
        announce("Contact saved");
        this.renderList();
      } catch (err) { announce(err.message); }
    });
    const stars = (n) => (n ? `${"★".repeat(n)}${"☆".repeat(Math.max(0, 5 - n))}` : "not rated");
    const history = h("ul", { class: "contact-conversations", "aria-label": "Conversations and ratings" },
      profile.conversations.map((o) => h("li", {}, h("a", { href: `#/c/${encodeURIComponent(o.id)}` },
        `${o.channel} · ${o.status} · ${when(o.last_message_at)}`), " ", h("span", { class: "rating" }, stars(o.rating)))));
    if (role === "viewer") for (const el of editor.elements) el.disabled = true;
    this.contact.append(editor, h("h4", {}, "Conversations and ratings"), history);
  }

}

async function readMarks() {
  const body = await api("GET", "/reads").catch(() => ({ items: [] }));
  return new Map(body.items.map((r) => [r.conversation_id, r.read_at]));
}
