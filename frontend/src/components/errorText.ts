import { ApiError } from "../api/ApiError";
import type { Translate } from "../i18n/translate";

/** A readable sentence for any failure of an API call. */
export function errorText(error: unknown, t: Translate): string {
  if (error instanceof ApiError) {
    if (error.isNetworkError) return t("error.network");
    if (error.status === 404 || error.status === 501)
      return t("error.notFoundBackendMissing");
    return t("error.generic", { message: error.message });
  }
  return t("error.generic", {
    message: error instanceof Error ? error.message : String(error),
  });
}
