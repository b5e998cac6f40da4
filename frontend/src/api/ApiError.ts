/** The API's one error shape: `{"message": str, "extra": {...}}`. */
export interface ApiErrorBody {
  message: string;
  extra: Record<string, unknown>;
}

/** A failed API call: HTTP status plus the server's message (or a network failure, status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly extra: Record<string, unknown>;

  constructor(status: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.extra = extra;
  }

  get isNetworkError(): boolean {
    return this.status === 0;
  }
}
