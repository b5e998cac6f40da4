import { describe, expect, it } from "vitest";
import { matchRoute } from "../router/routes";
import { guardRedirect, loginPathFor, safeNextPath } from "./guard";

const at = (path: string, search = "") => ({ route: matchRoute(path), path, search });

describe("guardRedirect", () => {
  it("waits while the session is being checked", () => {
    const { route, path } = at("/worklist");
    expect(guardRedirect(route, "loading", path, "")).toBeNull();
  });

  it("sends anonymous users to /login, remembering where they were going", () => {
    const { route, path } = at("/cases/abc");
    expect(guardRedirect(route, "anonymous", path, "")).toBe(
      "/login?next=%2Fcases%2Fabc",
    );
    const w = at("/worklist", "?page=2");
    expect(guardRedirect(w.route, "anonymous", w.path, w.search)).toBe(
      "/login?next=%2Fworklist%3Fpage%3D2",
    );
  });

  it("lets anonymous users see the login page", () => {
    const { route, path } = at("/login");
    expect(guardRedirect(route, "anonymous", path, "")).toBeNull();
  });

  it("sends logged-in users away from /login, to next when it is safe", () => {
    const { route, path } = at("/login");
    expect(guardRedirect(route, "authenticated", path, "")).toBe("/worklist");
    expect(guardRedirect(route, "authenticated", path, "?next=%2Fcases%2F1")).toBe(
      "/cases/1",
    );
    expect(
      guardRedirect(route, "authenticated", path, "?next=https://evil.example"),
    ).toBe("/worklist");
    expect(guardRedirect(route, "authenticated", path, "?next=//evil.example")).toBe(
      "/worklist",
    );
  });

  it("sends / to the worklist and renders other routes", () => {
    expect(guardRedirect(matchRoute("/"), "authenticated", "/", "")).toBe("/worklist");
    expect(
      guardRedirect(matchRoute("/worklist"), "authenticated", "/worklist", ""),
    ).toBeNull();
    expect(guardRedirect(matchRoute("/nope"), "authenticated", "/nope", "")).toBeNull();
  });
});

describe("safeNextPath / loginPathFor", () => {
  it("accepts only same-site paths", () => {
    expect(safeNextPath("/cases/1")).toBe("/cases/1");
    expect(safeNextPath("cases/1")).toBeNull();
    expect(safeNextPath("/\\evil")).toBeNull();
    expect(safeNextPath("/login")).toBeNull();
    expect(safeNextPath(null)).toBeNull();
  });
  it("does not add next for the root", () => {
    expect(loginPathFor("/")).toBe("/login");
  });
});

describe("matchRoute", () => {
  it("parses the app's paths", () => {
    expect(matchRoute("/")).toEqual({ name: "root" });
    expect(matchRoute("/login/")).toEqual({ name: "login" });
    expect(matchRoute("/worklist")).toEqual({ name: "worklist" });
    expect(matchRoute("/cases/1.2.3")).toEqual({ name: "case", studyId: "1.2.3" });
    expect(matchRoute("/cases/")).toEqual({ name: "notFound" });
    expect(matchRoute("/cases/a/b")).toEqual({ name: "notFound" });
  });
});
