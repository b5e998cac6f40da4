import type { ApiErrorBody } from "./ApiError";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads the API's error shape out of a parsed JSON body. Falls back to DRF's
 * `{"detail": ...}` and to a generic message, so a proxy's HTML error page or
 * an unexpected body still yields something readable.
 */
export function parseErrorBody(body: unknown, status: number): ApiErrorBody {
  if (isRecord(body)) {
    const extra = isRecord(body.extra) ? body.extra : {};
    const code =
      typeof body.code === "string" && body.code !== "" ? body.code : undefined;
    const params = isRecord(body.params) ? body.params : {};
    if (typeof body.message === "string" && body.message !== "") {
      return { message: body.message, extra, code, params };
    }
    if (typeof body.detail === "string" && body.detail !== "") {
      return { message: body.detail, extra, code, params };
    }
  }
  return { message: `HTTP ${status}`, extra: {} };
}
