// The API: every request goes through `api()`, with the reader's id and the headers features add.

import { BASE } from "./state.js";
import { t } from "./strings.js";
import { readerId } from "./store.js";
import { identity } from "./identity.js";

let READER = "";
const headerSources = [];

/** Adds headers to every request: ``source({method, path})`` returns them (sign-in's, say). */
export const addHeaders = (source) => headerSources.push(source);

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super(body.reason || `HTTP ${status}`);
    this.status = status;
    this.code = body.code || "";
    this.field = body.field || "";
    this.reason = body.reason || (typeof body.detail === "string" ? body.detail : "");
    this.retryAfter = Number(retryAfter || body.retry_after || 0) || 60;
  }
}

export async function api(method, path, { query, body, token } = {}) {
  const url = new URL(BASE + path);
  for (const [k, v] of Object.entries(query || {})) {
    for (const one of [].concat(v)) if (one != null && one !== "") url.searchParams.append(k, one);
  }
  if (!READER) READER = readerId();
  const headers = { Accept: "application/json", "X-Engagement-Reader": READER };
  for (const source of headerSources) Object.assign(headers, source({ method, path }));
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-cache", // revalidate with the ETag: a 304 is cheap, a stale thread after posting is not
    });
  } catch {
    throw new ApiError(0, { reason: t("offline") });
  }
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok && identity.retry(res.status, data)) return api(method, path, { query, body, token });
  if (!res.ok) throw new ApiError(res.status, data || {}, res.headers.get("Retry-After"));
  return { status: res.status, data: data || {} };
}

export const errorText = (err) => {
  if (err.status === 429) return t("tooFast", { s: err.retryAfter });
  if (err.status === 0) return t("offline");
  return t("failed", { reason: err.reason || `HTTP ${err.status}` });
};
