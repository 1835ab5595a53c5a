// Tiny DOM helpers: build elements without innerHTML, so message text is never markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function announce(text) {
  document.getElementById("status").textContent = text;
}

// Letters in a coloured tile: no emoji font or icon download needed.
export const CHANNEL_ICONS = { web: "W", telegram: "T", slack: "S", twitter: "X" };

export function channelBadge(channel) {
  return h("span", { class: `channel channel-${channel}`, title: channel },
    h("span", { class: "icon", "aria-hidden": "true" }, CHANNEL_ICONS[channel] || "?"),
    h("span", { class: "channel-name" }, channel));
}

export function when(iso) {
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleDateString();
}
