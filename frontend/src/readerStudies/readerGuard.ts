import type { Route } from "../router/routes";
import { MY_READING_PATH } from "./paths";

/**
 * A reader sees only "My reading": the worklist and the clinical case screen
 * (and the start page) send them there. `role` is the user's strongest role: a
 * reader who is also a physician keeps the worklist (and finds "My reading" in
 * the top bar). The server refuses them everything
 * else anyway; this spares them screens full of refusals.
 */
export function readerRedirect(
  route: Route,
  role: string | null | undefined,
): string | null {
  if (role !== "reader") return null;
  if (route.name === "root" || route.name === "worklist" || route.name === "case") {
    return MY_READING_PATH;
  }
  if (route.name === "readerStudies" || route.name === "readerStudy")
    return MY_READING_PATH;
  return null;
}
