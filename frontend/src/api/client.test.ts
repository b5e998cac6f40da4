import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "./ApiError";
import { apiRequest, buildUrl } from "./client";

interface Captured {
  url: string;
  init: RequestInit;
}

function mockFetch(status: number, body: string): Captured[] {
  const calls: Captured[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn((url: string, init: RequestInit) => {
      calls.push({ url, init });
      return Promise.resolve(new Response(body === "" ? null : body, { status }));
    }),
  );
  return calls;
}

function headerOf(call: Captured | undefined, name: string): string | undefined {
  const headers = (call?.init.headers ?? {}) as Record<string, string>;
  return headers[name];
}

describe("apiRequest", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok%2Ben123; path=/";
    document.cookie = "other=1; path=/";
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    document.cookie = "csrftoken=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/";
  });

  it("sends the CSRF token from the cookie on unsafe methods", async () => {
    const calls = mockFetch(200, '{"ok": true}');
    await apiRequest("/api/x", { method: "POST", body: { a: 1 } });
    expect(headerOf(calls[0], "X-CSRFToken")).toBe("tok+en123");
    expect(headerOf(calls[0], "Content-Type")).toBe("application/json");
    expect(calls[0]?.init.credentials).toBe("same-origin");
    expect(calls[0]?.init.body).toBe('{"a":1}');
  });

  it("does not send the CSRF token on GET", async () => {
    const calls = mockFetch(200, "[]");
    await apiRequest("/api/x");
    expect(headerOf(calls[0], "X-CSRFToken")).toBeUndefined();
    expect(calls[0]?.init.credentials).toBe("same-origin");
  });

  it("returns the parsed body, and null for 204", async () => {
    mockFetch(200, '{"id": 7}');
    await expect(apiRequest<{ id: number }>("/api/x")).resolves.toEqual({ id: 7 });
    mockFetch(204, "");
    await expect(apiRequest("/api/x", { method: "DELETE" })).resolves.toBeNull();
  });

  it("parses the API error shape into ApiError", async () => {
    mockFetch(409, '{"message": "Report changed", "extra": {"version": 3}}');
    const error = await apiRequest("/api/x", { method: "PUT", body: {} }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.status).toBe(409);
    expect(apiError.message).toBe("Report changed");
    expect(apiError.extra).toEqual({ version: 3 });
  });

  it("falls back to DRF detail and to the status for other bodies", async () => {
    mockFetch(403, '{"detail": "Not allowed"}');
    await expect(apiRequest("/api/x")).rejects.toMatchObject({
      status: 403,
      message: "Not allowed",
    });
    mockFetch(502, "<html>Bad gateway</html>");
    await expect(apiRequest("/api/x")).rejects.toMatchObject({
      status: 502,
      message: "HTTP 502",
    });
  });

  it("turns a network failure into ApiError with status 0", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(() => Promise.reject(new TypeError("Failed to fetch"))),
    );
    const error = await apiRequest("/api/x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).isNetworkError).toBe(true);
  });
});

describe("buildUrl", () => {
  it("leaves out empty values and encodes the rest", () => {
    expect(
      buildUrl("/api/studies/", {
        search: "张 三",
        modality: "",
        page: 2,
        x: null,
        y: undefined,
      }),
    ).toBe("/api/studies/?search=%E5%BC%A0+%E4%B8%89&page=2");
  });
  it("returns the path alone without a query", () => {
    expect(buildUrl("/api/studies/", {})).toBe("/api/studies/");
  });
});
