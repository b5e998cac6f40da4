import { announceSessionEnded, isSessionEndedError } from "../auth/sessionEnded";
import { ApiError } from "./ApiError";
import { isUnsafeMethod, readCookie } from "./csrf";
import { parseErrorBody } from "./parseErrorBody";

export type QueryValue = string | number | boolean | null | undefined;

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Serialised as JSON. */
  body?: unknown;
  /** Empty, null and undefined values are left out of the query string. */
  query?: Record<string, QueryValue>;
  signal?: AbortSignal;
  /** Extra headers (If-Match for optimistic locking, for example). */
  headers?: Record<string, string>;
  /** Send the request even when the page is closing (reading events). */
  keepalive?: boolean;
}

/** Builds `/api/...?a=1` from a path and query values, skipping empty ones. */
export function buildUrl(path: string, query?: Record<string, QueryValue>): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    params.append(key, String(value));
  }
  const qs = params.toString();
  if (qs === "") return path;
  return path.includes("?") ? `${path}&${qs}` : `${path}?${qs}`;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === "") return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * The one way the app talks to the backend: same-origin session cookie,
 * CSRF token from the `csrftoken` cookie on unsafe methods, JSON in and out,
 * and every failure turned into an ApiError.
 *
 * The result type is what the caller declares; the typed modules in src/api/
 * are the only callers, each documenting the shape it expects.
 */
export async function apiRequest<T>(
  path: string,
  options: RequestOptions = {},
): Promise<T> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = {
    Accept: "application/json",
    ...options.headers,
  };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (isUnsafeMethod(method)) {
    const token = readCookie("csrftoken");
    if (token !== null) headers["X-CSRFToken"] = token;
  }

  const init: RequestInit = {
    method,
    headers,
    credentials: "same-origin",
  };
  if (options.body !== undefined) init.body = JSON.stringify(options.body);
  if (options.signal) init.signal = options.signal;
  if (options.keepalive) init.keepalive = true;

  let response: Response;
  try {
    response = await fetch(buildUrl(path, options.query), init);
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network");
  }

  const body = await readJson(response);
  if (!response.ok) {
    const parsed = parseErrorBody(body, response.status);
    if (isSessionEndedError(path, response.status, parsed.code)) announceSessionEnded();
    throw new ApiError(
      response.status,
      parsed.message,
      parsed.extra,
      parsed.code ?? null,
      parsed.params ?? {},
    );
  }
  return body as T;
}
