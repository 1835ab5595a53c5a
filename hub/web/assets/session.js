// The agent's session: tokens in sessionStorage, API calls that refresh once on expiry,
// and the live feed socket with reconnect.

const KEY = "chorus.session";
let session = JSON.parse(sessionStorage.getItem(KEY) || "null");

export function current() { return session; }

function keep(body) {
  session = body && { access: body.access_token, refresh: body.refresh_token, agent: body.agent };
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function send(method, path, body, token) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const resp = await fetch(`/api/v1${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (resp.status === 204) return null;
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = data.error || {};
    throw new ApiError(resp.status, err.code || "http_error", err.message || resp.statusText);
  }
  return data;
}

export async function login(email, password) {
  keep(await send("POST", "/auth/login", { email, password }));
  return session;
}

export async function logout() {
  const refresh = session && session.refresh;
  keep(null);
  if (refresh) await send("POST", "/auth/logout", { refresh_token: refresh }).catch(() => {});
}

let refreshing = null;
async function refresh() {
  if (!refreshing) {
    refreshing = send("POST", "/auth/refresh", { refresh_token: session.refresh })
      .then(keep, (err) => { keep(null); throw err; })
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

export async function api(method, path, body) {
  if (!session) throw new ApiError(401, "missing_token", "not logged in");
  try {
    return await send(method, path, body, session.access);
  } catch (err) {
    if (err.status !== 401 || !session) throw err;
    await refresh();
    return send(method, path, body, session.access);
  }
}

// The live feed: authenticates with the first frame, reconnects with backoff, and
// refreshes the access token when the hub refuses it.
export function liveFeed(onFrame, onState) {
  let ws = null;
  let attempt = 0;
  let stopped = false;
  const connect = () => {
    if (stopped || !session) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    ws = new WebSocket(`${scheme}://${location.host}/inbox/ws`);
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: session.access }));
    ws.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "ready") { attempt = 0; onState("live"); }
      if (frame.type === "error") refresh().catch(() => {});
      onFrame(frame);
    };
    ws.onclose = () => {
      onState("offline");
      if (stopped) return;
      const delay = Math.min(30000, 500 * 2 ** attempt++) * (0.5 + Math.random() / 2);
      setTimeout(connect, delay);
    };
  };
  connect();
  return { close() { stopped = true; if (ws) ws.close(); } };
}
