import { apiRequest } from "./client";

export type Role = "physician" | "reader" | "study_admin" | "admin";
export type LanguageCode = "zh-hans" | "en" | string;

/** The logged-in user as /api/auth/me and /api/auth/login return it. */
export interface User {
  id: string | number;
  username: string;
  display_name: string;
  /** The strongest role the user holds (admin > study_admin > physician > reader). */
  role: Role | string;
  /** Every role the user holds; their rights add up. */
  roles: (Role | string)[];
  preferred_language: LanguageCode | null;
}

export interface LoginInput {
  username: string;
  password: string;
}

/** Sets the csrftoken cookie; call before the first unsafe request. */
export function fetchCsrf(): Promise<{ csrfToken: string }> {
  return apiRequest<{ csrfToken: string }>("/api/auth/csrf");
}

export async function login(input: LoginInput): Promise<User> {
  await fetchCsrf();
  return apiRequest<User>("/api/auth/login", { method: "POST", body: input });
}

export async function logout(): Promise<void> {
  await fetchCsrf();
  await apiRequest<null>("/api/auth/logout", { method: "POST" });
}

/** The current user; throws ApiError 401/403 when not logged in. */
export function fetchMe(signal?: AbortSignal): Promise<User> {
  return apiRequest<User>("/api/auth/me", signal ? { signal } : {});
}
