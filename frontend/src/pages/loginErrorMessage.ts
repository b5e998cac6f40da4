import { ApiError } from "../api/ApiError";
import type { Translate } from "../i18n/translate";

/** What the login form says for a failed sign-in. */
export function loginErrorMessage(error: unknown, t: Translate): string {
  if (error instanceof ApiError) {
    if (error.isNetworkError) return t("login.error.network");
    if (error.status === 429) return t("login.error.throttled");
    if (error.status === 400 || error.status === 401 || error.status === 403)
      return t("login.error.invalid");
    return t("login.error.generic", { message: error.message });
  }
  return t("login.error.generic", { message: String(error) });
}
