/** Polling cadence of the live status: a steady interval, backing off on failures. */
export const POLL_BASE_MS = 5000;
export const POLL_MAX_MS = 60000;

/** Delay before the next poll after `failures` failed polls in a row (0 = healthy). */
export function nextPollDelay(
  failures: number,
  base = POLL_BASE_MS,
  max = POLL_MAX_MS,
): number {
  if (failures <= 0) return base;
  return Math.min(max, base * 2 ** Math.min(failures, 10));
}
