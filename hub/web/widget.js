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
    typingSentAt = 0; // the message ended that typing: the next keystroke is news
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
      noteReply(frame);
    } else if (frame.type === "history") {
      for (const m of frame.messages) onFrame({ ...m, type: "message" });
      if (frame.more && lastId) ws.send(JSON.stringify({ type: "history", since: lastId }));
    } else if (frame.type === "typing") {
      showTyping(frame);
    } else if (frame.type === "error" && frame.code === "invalid_visitor_token") {
      localStorage.removeItem(TOKEN_KEY);
    } else if (frame.type === "error" && frame.code === "unknown_attachment") {
      // A file the hub no longer knows: the message cannot be sent, so stop resending it.
      if (frame.client_id) { pending.delete(frame.client_id); savePending(); }
      complain(frame.message);
    }
  }

  // Presence: "agent is typing" (it expires on its own, or when the reply arrives), the
  // visitor's own typing (at most one frame per TYPING_EVERY ms), and read receipts: the
  // newest reply is reported seen once the panel is open on a visible page.
  const TYPING_EVERY = 2000;
  const typing = el("p", "cw-typing");
  typing.hidden = true;
  typing.setAttribute("role", "status");
  box.insertBefore(typing, form);
  let typingTimer = null;
  let typingSentAt = 0;
  let newestReply = null;
  let reportedSeen = null;

  function showTyping(frame) {
    const name = frame.author && frame.author.name;
    typing.textContent = name ? `${name} is typing…` : "Agent is typing…";
    typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, (frame.expires_in_seconds || 6) * 1000);
  }

  function hideTyping() { clearTimeout(typingTimer); typing.hidden = true; }

  function reportSeen() {
    if (!newestReply || newestReply === reportedSeen || box.hidden) return;
    if (document.visibilityState !== "visible" || !ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ type: "seen", id: newestReply }));
    reportedSeen = newestReply;
  }

  function noteReply(frame) {
    if (frame.direction !== "outbound") return;
    hideTyping();
    newestReply = frame.id;
    reportSeen();
  }

  input.addEventListener("input", () => {
    const now = Date.now();
    if (!input.value.trim() || now - typingSentAt < TYPING_EVERY) return;
    if (!ws || ws.readyState !== WebSocket.OPEN || !localStorage.getItem(TOKEN_KEY)) return;
    ws.send(JSON.stringify({ type: "typing" }));
    typingSentAt = now;
  });
  button.addEventListener("click", reportSeen);
  document.addEventListener("visibilitychange", reportSeen);

  // Looks and language: the script tag's data- attributes (data-title, data-color,
  // data-greeting, data-position, data-lang) win over the hub's web.widget settings
  // (GET /api/v1/widget/config), which win over the defaults. The language is English or
  // Simplified Chinese: data-lang, then the setting, then the page's lang, then the
  // browser's. Strings are written in English above and translated where they appear
  // (never inside the conversation log, which is what people wrote).
  const ZH = {
    "Open chat": "打开聊天", "Close chat": "关闭聊天", "Chat with us": "与我们聊天",
    "connecting…": "连接中…", "online": "在线", "reconnecting…": "重新连接中…",
    "Your message": "您的消息", "Type a message…": "输入消息…", "Send": "发送",
    "Agent is typing…": "客服正在输入…", "Your name": "您的姓名", "Your email": "您的邮箱",
    "We're away right now. Leave your email and we'll answer by email.": "我们暂时不在线。请留下邮箱，我们会通过邮件回复您。",
    "Before we start:": "开始之前：", "Thanks! We'll answer by email.": "谢谢！我们会通过邮件回复您。",
  };
  const ZH_PATTERNS = [[/^(.+) is typing…$/, "$1 正在输入…"]];
  const attrs = script ? script.dataset : {};
  let language = "en";

  function pickLanguage(setting) {
    const wanted = attrs.lang || (setting && setting !== "auto" ? setting : "")
      || document.documentElement.lang || navigator.language || "en";
    return /^zh/i.test(wanted) ? "zh-CN" : "en";
  }

  function tr(text) {
    if (language !== "zh-CN" || !text) return text;
    const trimmed = text.trim();
    if (ZH[trimmed]) return ZH[trimmed];
    for (const [pattern, into] of ZH_PATTERNS) if (pattern.test(trimmed)) return trimmed.replace(pattern, into);
    return text;
  }

  function translate(node) {
    if (node === log) return;
    if (node.nodeType === Node.TEXT_NODE) {
      const want = tr(node.nodeValue);
      if (want !== node.nodeValue) node.nodeValue = want;
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    for (const name of ["aria-label", "placeholder"]) {
      const value = node.getAttribute(name);
      if (value && tr(value) !== value) node.setAttribute(name, tr(value));
    }
    for (const child of node.childNodes) translate(child);
  }

  function applySettings(settings) {
    language = pickLanguage(settings.language);
    for (const part of [box, button]) part.lang = language;
    const color = attrs.color || settings.color;
    if (/^#[0-9a-f]{6}$/i.test(color || "")) {
      for (const part of [box, button]) part.style.setProperty("--cw-accent", color);
    }
    const title = attrs.title || settings.title;
    if (title) { head.firstChild.nodeValue = title; box.setAttribute("aria-label", title); }
    if ((attrs.position || settings.position) === "left") {
      for (const part of [box, button]) part.classList.add("cw-left");
    }
    const greeting = attrs.greeting || settings.greeting;
    if (greeting) log.prepend(el("li", "cw-msg cw-greeting", greeting));
    const run = () => { translate(box); translate(button); };
    run();
    if (language !== "en") {
      const watch = { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["aria-label", "placeholder"] };
      for (const part of [box, button]) new MutationObserver(run).observe(part, watch);
    }
  }

  const getJson = (path) => fetch(origin + path).then((resp) => (resp.ok ? resp.json() : {}), () => ({}));
  Promise.all([getJson("/api/v1/widget/config"), getJson("/api/v1/widget/availability")])
    .then(([settings, availability]) => { askDetails(settings, availability); applySettings(settings); },
      () => applySettings({}));

  // The pre-chat form (web.widget.prechat_fields) and the offline form (outside business
  // hours or with no agent online: name and email, "we'll answer by email"). The fields
  // sit above the message field and are required; the first message sends them first, as
  // a contact frame the hub keeps on the visitor's contact.
  const DETAILS_KEY = "chorus.details_sent";
  const details = el("fieldset", "cw-details");
  details.hidden = true;
  let offline = false;

  function detailField(name, label, type) {
    const id = `cw-${name}`;
    const field = el("input");
    field.id = id;
    field.name = name;
    field.type = type;
    field.required = true;
    field.autocomplete = name;
    const caption = el("label", "", label);
    caption.htmlFor = id;
    details.append(caption, field);
    return field;
  }

  function askDetails(settings, availability) {
    offline = availability.available === false;
    const wanted = new Set(settings.prechat_fields || []);
    if (offline) { wanted.add("name"); wanted.add("email"); }
    if (!wanted.size || (!offline && localStorage.getItem(DETAILS_KEY))) return;
    const intro = el("p", "cw-note", offline ? "We're away right now. Leave your email and we'll answer by email." : "Before we start:");
    details.append(intro);
    if (wanted.has("name")) detailField("name", "Your name", "text");
    if (wanted.has("email")) detailField("email", "Your email", "email");
    details.hidden = false;
    form.prepend(details);
  }

  // Runs before the message is sent (a capturing listener on the form itself).
  form.addEventListener("submit", () => {
    if (details.hidden || !ws || ws.readyState !== WebSocket.OPEN) return;
    const value = (name) => { const field = details.querySelector(`[name=${name}]`); return field ? field.value.trim() : null; };
    ws.send(JSON.stringify({ type: "contact", name: value("name") || null, email: value("email") || null }));
    localStorage.setItem(DETAILS_KEY, "1");
    details.hidden = true;
    if (offline) log.append(el("li", "cw-msg cw-note", tr("Thanks! We'll answer by email.")));
  }, { capture: true });

  // Keyboard: Escape closes the panel and gives the focus back to the button.
  // A close button in the header too (on a phone the panel covers the whole screen).
  function closePanel() {
    box.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }
  const closer = el("button", "cw-close", "×");
  closer.type = "button";
  closer.setAttribute("aria-label", "Close chat");
  closer.addEventListener("click", closePanel);
  head.append(closer);
  box.setAttribute("role", "dialog");
  box.addEventListener("keydown", (event) => { if (event.key === "Escape" && !box.hidden) closePanel(); });

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
