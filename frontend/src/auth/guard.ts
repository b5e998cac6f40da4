import type { Route } from "../router/routes";

export type AuthState = "loading" | "anonymous" | "authenticated";

/** Only same-site paths are followed after login, never `//host` or a full URL. */
export function safeNextPath(next: string | null | undefined): string | null {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\"))
    return null;
  if (next.startsWith("/login")) return null;
  return next;
}

export function loginPathFor(currentPath: string): string {
  const next = safeNextPath(currentPath);
  return next && next !== "/" ? `/login?next=${encodeURIComponent(next)}` : "/login";
}

/**
 * Where the router must send the user instead of rendering `route`, or null
 * to render it. While the session is being checked nothing redirects.
 */
export function guardRedirect(
  route: Route,
  auth: AuthState,
  currentPath: string,
  search: string,
): string | null {
  if (auth === "loading") return null;
  if (route.name === "login") {
    if (auth !== "authenticated") return null;
    const next = safeNextPath(new URLSearchParams(search).get("next"));
    return next ?? "/worklist";
  }
  if (auth === "anonymous") return loginPathFor(currentPath + search);
  if (route.name === "root") return "/worklist";
  return null;
}
