/** The API's one error shape: `{"message", "extra", "code", "params"}`. */
export interface ApiErrorBody {
  message: string;
  extra: Record<string, unknown>;
  /** Stable identifier of the error (e.g. "study_not_found"); the UI translates it. */
  code?: string | undefined;
  /** The values the translated message needs. */
  params?: Record<string, unknown> | undefined;
}

/** A failed API call: HTTP status plus the server's message (or a network failure, status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly extra: Record<string, unknown>;
  readonly code: string | null;
  readonly params: Record<string, unknown>;

  constructor(
    status: number,
    message: string,
    extra: Record<string, unknown> = {},
    code: string | null = null,
    params: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.extra = extra;
    this.code = code;
    this.params = params;
  }

  get isNetworkError(): boolean {
    return this.status === 0;
  }
}
