// The service's API on this same origin: JSON in and out, the session cookie sent by the
// browser, and the X-Requested-With header the API's CSRF check asks for.

// What a person reads when the service or what it runs on is failing for a moment (the API's
// 503 service_unavailable, or a gateway's 502/503/504 without the API's error shape).
export const BRIEFLY_UNAVAILABLE = "The service is briefly unavailable. Try again in a moment.";

export class ApiError extends Error {
  constructor(status, body) {
    const ours = body && typeof body.error === "string";
    const briefly = status >= 502 && status <= 504 && (!ours || body.error === "service_unavailable");
    super(briefly ? BRIEFLY_UNAVAILABLE : (body && body.message) || `The service answered ${status}.`);
    this.status = status;
    this.code = (ours && body.error) || (briefly ? "service_unavailable" : "http_" + status);
    this.body = body || {};
  }
}

export async function call(method, path, body) {
  const init = {method, credentials: "same-origin",
                headers: {"X-Requested-With": "fetch", "Accept": "application/json"}};
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (networkError) {
    throw new ApiError(0, {error: "network_error",
                           message: "The service cannot be reached. Check your connection and try again."});
  }
  const text = await response.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

export const get = (path) => call("GET", path);
export const post = (path, body = {}) => call("POST", path, body);
export const patch = (path, body) => call("PATCH", path, body);
export const del = (path, body) => call("DELETE", path, body);

// One sentence for a person, for every error the API answers: its own message, plus what
// the error's extra fields say (attempts left, when to retry). An invalid_request's `details`
// are for developers: its message already names the fields in plain words.
export function describe(error) {
  if (!(error instanceof ApiError)) return error.message || String(error);
  let text = error.message;
  const extra = error.body || {};
  if (typeof extra.attempts_remaining === "number") {
    text += extra.attempts_remaining === 0 ? " No attempts left: start the login again."
      : ` ${extra.attempts_remaining} attempt${extra.attempts_remaining === 1 ? "" : "s"} left.`;
  }
  if (typeof extra.tries_left === "number") {
    text += extra.tries_left === 0 ? " No tries left: start again."
      : ` ${extra.tries_left} ${extra.tries_left === 1 ? "try" : "tries"} left.`;
  }
  if (typeof extra.retry_after === "number" && error.status === 429) {
    text += ` Try again in ${formatDuration(extra.retry_after)}.`;
  }
  return text;
}

export function formatDuration(seconds) {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.round(seconds / 60);
  return minutes < 90 ? `${minutes} minutes` : `${Math.round(minutes / 60)} hours`;
}
