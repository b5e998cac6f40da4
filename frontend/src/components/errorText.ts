import { ApiError } from "../api/ApiError";
import { dictionaries, type MessageKey } from "../i18n/messages";
import type { Translate, TranslateParams } from "../i18n/translate";

function isKey(key: string): key is MessageKey {
  return key in dictionaries.en;
}

function printable(params: Record<string, unknown>): TranslateParams {
  const out: TranslateParams = {};
  for (const [name, value] of Object.entries(params)) {
    if (typeof value === "string" || typeof value === "number") out[name] = value;
    else if (Array.isArray(value)) out[name] = value.join(", ");
  }
  return out;
}

/** The message for the server's error code in the user's language, or null for an unknown code. */
export function errorCodeText(error: ApiError, t: Translate): string | null {
  if (error.code === null) return null;
  const key = `error.code.${error.code}`;
  return isKey(key) ? t(key, printable(error.params)) : null;
}

/** A generic sentence by HTTP status, in the user's language. */
function statusText(status: number, t: Translate): string {
  const key = `error.status.${status}`;
  if (isKey(key)) return t(key);
  if (status >= 500) return t("error.status.5xx", { status });
  return t("error.status.other", { status });
}

/**
 * A readable sentence for any failure of an API call, always in the user's language: the
 * server's error code translated, else a sentence for the HTTP status. The server's own
 * (English) message is for the details (see `errorDetail`), never the sentence shown.
 */
export function errorText(error: unknown, t: Translate): string {
  if (error instanceof ApiError) {
    if (error.isNetworkError) return t("error.network");
    return errorCodeText(error, t) ?? statusText(error.status, t);
  }
  return t("error.generic", {
    message: error instanceof Error ? error.message : String(error),
  });
}

/** The server's own message, for a tooltip or a support request. */
export function errorDetail(error: unknown): string | null {
  return error instanceof ApiError && !error.isNetworkError ? error.message : null;
}
