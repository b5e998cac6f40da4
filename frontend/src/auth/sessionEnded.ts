/**
 * A signed-in session can end under an open page (idle timeout, absolute lifetime, "log out
 * everywhere" from another device). The API then answers every call with `not_authenticated`.
 * The API client announces that once per failing call; the AuthProvider turns it into a
 * sign-in dialog over the page, so that unsaved work on the page is not lost.
 */
export const SESSION_ENDED_EVENT = "boneread:session-ended";

/** Authentication endpoints answer for themselves (a wrong password is not an ended session). */
const AUTH_PATH_PREFIX = "/api/auth/";

export function isSessionEndedError(
  path: string,
  status: number,
  code: string | null | undefined,
): boolean {
  if (path.startsWith(AUTH_PATH_PREFIX)) return false;
  return (status === 401 || status === 403) && code === "not_authenticated";
}

export function announceSessionEnded(): void {
  window.dispatchEvent(new Event(SESSION_ENDED_EVENT));
}
