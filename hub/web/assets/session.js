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
  // fields: each refused value's path and message, [{loc: ["web", 0, "max_chars"], message}].
  constructor(status, code, message, fields = []) {
    super(message); this.status = status; this.code = code; this.fields = fields;
  }
}

async function send(method, path, body, token) {
  const headers = {};
  // A FormData body (files) goes as multipart/form-data, with the boundary the browser sets.
  const form = body instanceof FormData;
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const resp = await fetch(`/api/v1${path}`, {
    method, headers, body: body === undefined || form ? body : JSON.stringify(body),
  });
  if (resp.status === 204) return null;
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = data.error || {};
    throw new ApiError(resp.status, err.code || "http_error", err.message || resp.statusText, err.fields || []);
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

// A download (CSV): the same token and refresh as api(), the body as a Blob.
export async function apiBlob(path) {
  if (!session) throw new ApiError(401, "missing_token", "not logged in");
  const get = () => fetch(`/api/v1${path}`, { headers: { Authorization: `Bearer ${session.access}` } });
  let resp = await get();
  if (resp.status === 401) { await refresh(); resp = await get(); }
  if (!resp.ok) throw new ApiError(resp.status, "http_error", resp.statusText);
  return resp.blob();
}

// The live feed: authenticates with the first frame and reconnects with backoff. The hub
// closes it with 4401 when its token is refused, expires or its session is revoked: the
// feed then refreshes the token and reconnects at once, or calls onLoggedOut when the
// session is over.
const CLOSE_AUTHENTICATE_AGAIN = 4401;

export function liveFeed(onFrame, onState, onLoggedOut) {
  let ws = null;
  let attempt = 0;
  let stopped = false;
  const backoff = () => Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
  const retry = (delay) => { attempt += 1; setTimeout(connect, delay); };
  const connect = () => {
    if (stopped || !session) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    ws = new WebSocket(`${scheme}://${location.host}/inbox/ws`);
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: session.access }));
    ws.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "ready") { attempt = 0; onState("live"); }
      onFrame(frame);
    };
    ws.onclose = (event) => {
      onState("offline");
      if (stopped) return;
      if (event.code === CLOSE_AUTHENTICATE_AGAIN && session) {
        // The first retry is immediate; a token refused again backs off like any failure.
        refresh().then(() => retry(attempt === 0 ? 0 : backoff()), () => { if (onLoggedOut) onLoggedOut(); });
        return;
      }
      retry(backoff());
    };
  };
  connect();
  return {
    close() { stopped = true; if (ws) ws.close(); },
    // Frames agents send (typing): dropped while the feed is reconnecting.
    send(frame) { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame)); },
  };
}
