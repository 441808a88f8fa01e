// The one way the console talks to the server: same-origin fetch with the session cookie, the
// session's CSRF token on every change, JSON in and out. A 401 means the session ended
// (logout elsewhere, deactivation, idle timeout): back to the login page.

export const LOGIN_URL = "/console/login";

let me = null;

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || body.error)) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

function toLogin() {
  const back = location.hash && location.hash !== "#/" ? `?next=${encodeURIComponent(location.hash)}` : "";
  location.assign(LOGIN_URL + back);
}

/** The signed-in member ({username, name, role, communities, permissions, csrf}); cached. */
export async function loadMe(force = false) {
  if (me && !force) return me;
  const resp = await fetch("/console/api/me", { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (resp.status === 401) {
    toLogin();
    throw new ApiError(401, { error: "unauthorized" });
  }
  if (!resp.ok) throw new ApiError(resp.status, await readBody(resp));
  me = await resp.json();
  return me;
}

export function currentMe() {
  return me;
}

export function may(permission) {
  return Boolean(me && (me.permissions || []).includes(permission));
}

async function readBody(resp) {
  const type = resp.headers.get("Content-Type") || "";
  if (resp.status === 204) return null;
  if (type.includes("json")) return resp.json().catch(() => null);
  return resp.text().catch(() => null);
}

/** Build "/api/x?a=1&b=2" leaving out empty values. */
export function withQuery(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "" && v !== false) q.set(k, v === true ? "1" : String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** fetch → {data, headers}; throws ApiError on any non-2xx (after sending 401s to the login page). */
export async function request(method, path, { body, params } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") {
    if (!me) await loadMe();
    headers["X-CSRF-Token"] = me.csrf;
  }
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(withQuery(path, params), {
    method,
    credentials: "same-origin",
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await readBody(resp);
  if (resp.status === 401) {
    toLogin();
    throw new ApiError(401, data);
  }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return { data, headers: resp.headers };
}

export const api = {
  get: async (path, params) => (await request("GET", path, { params })).data,
  post: async (path, body = {}) => (await request("POST", path, { body })).data,
  patch: async (path, body = {}) => (await request("PATCH", path, { body })).data,
  del: async (path) => (await request("DELETE", path)).data,
  /** GET with headers (X-Total-Count). */
  page: (path, params) => request("GET", path, { params }),
};

/** What a refusal means, in words staff understand. */
export function explain(err) {
  if (!(err instanceof ApiError)) return `网络错误：${err.message || err}`;
  const code = err.body && err.body.error;
  const byCode = {
    csrf: "页面已过期，请刷新后重试",
    forbidden: "没有权限执行此操作",
    claimed: `该会话正由 ${err.body.assignee || "同事"} 处理`,
    not_found: "没有找到（可能已被删除或不在您的管辖范围）",
    bad_credentials: "用户名或密码错误",
    conflict: "当前状态下不能这样操作",
    invalid_transition: "当前状态下不能这样操作",
  };
  const text = byCode[code] || (err.status === 403 ? byCode.forbidden : null) || (err.status === 404 ? byCode.not_found : null);
  const detail = err.body && err.body.message;
  if (text) return detail && !/^[\x00-\x7f]*$/.test(detail) ? detail : text;
  if (err.status === 429) return "操作太频繁，请稍后再试";
  if (err.status >= 500) return `服务器暂时无法处理（${err.status}），请稍后再试`;
  return detail || `请求失败（${err.status}）`;
}

export async function logout() {
  try {
    await request("POST", "/console/logout");
  } catch (_err) {
    // the session may already be gone; the login page is where we go either way
  }
  location.assign(LOGIN_URL);
}

let communities = null;
/** {code: name} of the caller's communities (fetched once; {} if unavailable). */
export function communityNames() {
  if (!communities) {
    communities = api
      .get("/api/communities")
      .then((list) => Object.fromEntries(list.map((c) => [c.code, c.name])))
      .catch(() => ({}));
  }
  return communities;
}
