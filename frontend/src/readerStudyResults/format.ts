/**
 * Number formats of the results page, the same as the PDF's (backend `analysis.report.fmt`), so
 * that the page, the report and the tests show identical strings. Python's format rounds an
 * exact tie (a binary value exactly halfway) to even; `toFixed` rounds it up: handled here.
 */
type Num = number | null | undefined;

export function fmt(value: Num, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const plain = value.toFixed(digits);
  // toFixed is exact on the binary value: many more digits show whether it is an exact tie.
  const long = Math.abs(value).toFixed(Math.min(digits + 40, 100));
  const tail = long.slice(long.indexOf(".") + 1 + digits);
  if (!/^50*$/.test(tail)) return plain;
  const scale = 10 ** digits;
  const floor = Math.floor(Math.abs(value) * scale);
  const even = floor % 2 === 0 ? floor : floor + 1;
  return ((Math.sign(value) * even) / scale).toFixed(digits);
}

export function fmtP(value: Num): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return value < 0.001 ? "<0.001" : fmt(value, 3);
}

export function fmtCi(
  ci: readonly [number, number] | null | undefined,
  digits = 3,
): string {
  if (!ci) return "–";
  return `${fmt(ci[0], digits)} – ${fmt(ci[1], digits)}`;
}
