// Chorus chat widget: add <script src="https://your-hub/widget.js" defer></script> to a page.
// It speaks the hub's /chat protocol: hello with the visitor token kept in localStorage,
// history on (re)connect (after the last message received, so nothing is missed or shown
// twice), a client_id per message, unacknowledged messages resent after a reconnect, and
// reconnection with exponential backoff.
(() => {
  const script = document.currentScript;
  const origin = new URL(script ? script.src : location.href).origin;
  const url = origin.replace(/^http/, "ws") + "/chat";
  const TOKEN_KEY = "chorus.visitor_token";
  const PENDING_KEY = "chorus.pending";
  const pending = new Map(JSON.parse(localStorage.getItem(PENDING_KEY) || "[]"));
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
  form.append(input, send);
  box.append(head, log, form);
  document.body.append(box, button);

  button.addEventListener("click", () => {
    box.hidden = !box.hidden;
    button.setAttribute("aria-expanded", String(!box.hidden));
    if (!box.hidden) input.focus();
  });

  function show(key, text, mine, isPending) {
    let item = log.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (!item) {
      if (shown.has(key)) return;
      item = el("li", "cw-msg" + (mine ? " cw-me" : ""), text);
      item.dataset.key = key;
      log.append(item);
      item.scrollIntoView({ block: "end" });
    }
    shown.add(key);
    item.classList.toggle("cw-pending", Boolean(isPending));
  }

  function savePending() { localStorage.setItem(PENDING_KEY, JSON.stringify([...pending])); }

  function transmit(clientId, text) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "message", text, client_id: clientId }));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    const clientId = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now() + Math.random());
    pending.set(clientId, text);
    savePending();
    show(clientId, text, true, true);
    transmit(clientId, text);
    input.value = "";
    typingSentAt = 0; // the message ended that typing: the next keystroke is news
  });

  function onFrame(frame) {
    if (frame.type === "welcome") {
      localStorage.setItem(TOKEN_KEY, frame.visitor_token);
      attempt = 0;
      state.textContent = "online";
      for (const [clientId, text] of pending) transmit(clientId, text);
    } else if (frame.type === "ack") {
      pending.delete(frame.client_id);
      savePending();
      if (frame.client_id) show(frame.client_id, "", true, false);
    } else if (frame.type === "message") {
      const mine = frame.direction === "inbound";
      lastId = frame.id;
      show(mine && frame.client_id ? frame.client_id : frame.id, frame.text, mine, false);
      noteReply(frame);
    } else if (frame.type === "history") {
      for (const m of frame.messages) onFrame({ ...m, type: "message" });
      if (frame.more && lastId) ws.send(JSON.stringify({ type: "history", since: lastId }));
    } else if (frame.type === "typing") {
      showTyping(frame);
    } else if (frame.type === "error" && frame.code === "invalid_visitor_token") {
      localStorage.removeItem(TOKEN_KEY);
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
