// Chorus chat widget: add <script src="https://your-hub/widget.js" defer></script> to a page.
// It speaks the hub's /chat protocol: hello with the visitor token kept in localStorage,
// history on (re)connect (after the last message received, so nothing is missed or shown
// twice), a client_id per message, unacknowledged messages resent after a reconnect, and
// reconnection with exponential backoff. Files (the clip button, drag and drop onto the
// panel, or pasting an image) are uploaded to /chat/uploads first, then sent by media id.
(() => {
  const script = document.currentScript;
  const origin = new URL(script ? script.src : location.href).origin;
  const url = origin.replace(/^http/, "ws") + "/chat";
  const TOKEN_KEY = "chorus.visitor_token";
  const PENDING_KEY = "chorus.pending";
  // Pending messages by client id: { text, attachments } (older pages kept the text only).
  const pending = new Map(JSON.parse(localStorage.getItem(PENDING_KEY) || "[]")
    .map(([id, v]) => [id, typeof v === "string" ? { text: v, attachments: [] } : v]));
  const shown = new Set();
  let ws = null;
  let attempt = 0;
  // The resume position: the last message received (never an ack, which can be ahead of
  // a reply still on its way).
  let lastId = null;

  const style = document.createElement("link");
  style.rel = "stylesheet";
  style.href = origin + "/widget.css";
  document.head.append(style);

  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text) e.textContent = text; return e; };
  const button = el("button", "cw-btn");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const bubble = document.createElementNS("http://www.w3.org/2000/svg", "path");
  bubble.setAttribute("d", "M4 4h16v11H8l-4 4z");
  bubble.setAttribute("fill", "currentColor");
  svg.append(bubble);
  button.append(svg);
  button.setAttribute("aria-label", "Open chat");
  button.setAttribute("aria-expanded", "false");
  const box = el("section", "cw-box");
  box.hidden = true;
  box.setAttribute("aria-label", "Chat with us");
  const head = el("div", "cw-head", "Chat with us");
  const state = el("span", "cw-state", "connecting…");
  head.append(state);
  const log = el("ol", "cw-log");
  log.setAttribute("aria-live", "polite");
  const form = el("form", "cw-form");
  const input = el("input");
  input.setAttribute("aria-label", "Your message");
  input.placeholder = "Type a message…";
  const send = el("button", "", "Send");
  send.type = "submit";
  const picker = el("input");
  picker.type = "file";
  picker.hidden = true;
  picker.accept = "image/*,application/pdf,audio/*,video/mp4";
  const attach = el("button", "cw-attach");
  attach.type = "button";
  const clip = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  clip.setAttribute("viewBox", "0 0 24 24");
  clip.setAttribute("aria-hidden", "true");
  const clipPath = document.createElementNS("http://www.w3.org/2000/svg", "path");
  clipPath.setAttribute("d", "M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6z");
  clipPath.setAttribute("fill", "currentColor");
  clip.append(clipPath);
  attach.append(clip);
  attach.setAttribute("aria-label", "Attach a file");
  form.append(attach, picker, input, send);
  box.append(head, log, form);
  document.body.append(box, button);

  button.addEventListener("click", () => {
    box.hidden = !box.hidden;
    button.setAttribute("aria-expanded", String(!box.hidden));
    if (!box.hidden) input.focus();
  });

  // A file the hub keeps is linked through its signed hub URL; an image shows its thumbnail.
  function fileView(a) {
    const href = a.download_url ? origin + a.download_url : /^https?:\/\//i.test(a.url || "") ? a.url : null;
    const link = el(href ? "a" : "span", "cw-file", a.thumbnail_url ? "" : a.name || a.kind);
    if (href) { link.href = href; link.target = "_blank"; link.rel = "noopener noreferrer"; }
    if (a.thumbnail_url) {
      const img = el("img", "cw-thumb");
      img.src = origin + a.thumbnail_url;
      img.alt = a.name || "image";
      link.append(img);
    }
    return link;
  }

  function show(key, text, mine, isPending, attachments) {
    let item = log.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (!item) {
      if (shown.has(key)) return;
      item = el("li", "cw-msg" + (mine ? " cw-me" : ""), text);
      item.dataset.key = key;
      for (const a of attachments || []) item.append(fileView(a));
      log.append(item);
      item.scrollIntoView({ block: "end" });
    }
    shown.add(key);
    item.classList.toggle("cw-pending", Boolean(isPending));
  }

  function savePending() { localStorage.setItem(PENDING_KEY, JSON.stringify([...pending])); }

  function transmit(clientId, entry) {
    const attachments = entry.attachments.map((a) => a.media_id);
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "message", text: entry.text, client_id: clientId, attachments }));
  }

  function post(text, attachments) {
    const clientId = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now() + Math.random());
    const entry = { text, attachments };
    pending.set(clientId, entry);
    savePending();
    show(clientId, text, true, true, attachments);
    transmit(clientId, entry);
  }

  function complain(message) {
    const item = el("li", "cw-error", message);
    item.setAttribute("role", "alert");
    log.append(item);
    item.scrollIntoView({ block: "end" });
  }

  // Upload first (the hub checks the file's content and size), then send it by media id.
  async function upload(file) {
    const token = localStorage.getItem(TOKEN_KEY);
    if (!token) return complain("Still connecting; try again in a moment.");
    const body = new FormData();
    body.append("file", file, file.name || "pasted.png");
    try {
      const resp = await fetch(origin + "/chat/uploads", { method: "POST", headers: { Authorization: `Bearer ${token}` }, body });
      const data = await resp.json().catch(() => ({}));
      if (!resp.ok) return complain((data.error && data.error.message) || "The file was not accepted.");
      post("", [data]);
    } catch (err) { complain("The file could not be sent."); }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    post(text, []);
    input.value = "";
  });
  attach.addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => { for (const f of picker.files) upload(f); picker.value = ""; });
  box.addEventListener("dragover", (event) => { event.preventDefault(); box.classList.add("cw-drop"); });
  box.addEventListener("dragleave", () => box.classList.remove("cw-drop"));
  box.addEventListener("drop", (event) => {
    event.preventDefault();
    box.classList.remove("cw-drop");
    for (const f of event.dataTransfer.files) upload(f);
  });
  input.addEventListener("paste", (event) => {
    const files = [...(event.clipboardData ? event.clipboardData.files : [])].filter((f) => f.type.startsWith("image/"));
    if (files.length) { event.preventDefault(); files.forEach(upload); }
  });

  function onFrame(frame) {
    if (frame.type === "welcome") {
      localStorage.setItem(TOKEN_KEY, frame.visitor_token);
      attempt = 0;
      state.textContent = "online";
      for (const [clientId, entry] of pending) transmit(clientId, entry);
    } else if (frame.type === "ack") {
      pending.delete(frame.client_id);
      savePending();
      if (frame.client_id) show(frame.client_id, "", true, false);
    } else if (frame.type === "message") {
      const mine = frame.direction === "inbound";
      lastId = frame.id;
      show(mine && frame.client_id ? frame.client_id : frame.id, frame.text, mine, false, frame.attachments);
    } else if (frame.type === "history") {
      for (const m of frame.messages) onFrame({ ...m, type: "message" });
      if (frame.more && lastId) ws.send(JSON.stringify({ type: "history", since: lastId }));
    } else if (frame.type === "error" && frame.code === "invalid_visitor_token") {
      localStorage.removeItem(TOKEN_KEY);
    } else if (frame.type === "error" && frame.code === "unknown_attachment") {
      // A file the hub no longer knows: the message cannot be sent, so stop resending it.
      if (frame.client_id) { pending.delete(frame.client_id); savePending(); }
      complain(frame.message);
    }
  }

  function connect() {
    ws = new WebSocket(url);
    ws.onopen = () => ws.send(JSON.stringify({
      type: "hello", visitor_token: localStorage.getItem(TOKEN_KEY), history: true,
      history_since: lastId,
    }));
    ws.onmessage = (event) => onFrame(JSON.parse(event.data));
    ws.onclose = () => {
      state.textContent = "reconnecting…";
      const delay = Math.min(30000, 500 * 2 ** attempt++) * (0.5 + Math.random() / 2);
      setTimeout(connect, delay);
    };
  }
  connect();
})();
