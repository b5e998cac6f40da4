/** The readers field: a list "4,6,8" or a range "4-8" -> [4, 6, 8] / [4, 5, 6, 7, 8]; null if neither. */
export function parseReaders(text: string): number[] | null {
  const trimmed = text.replace(/\s+/g, "");
  if (trimmed === "") return null;
  const range = /^(\d+)-(\d+)$/.exec(trimmed);
  if (range) {
    const lo = Number(range[1]);
    const hi = Number(range[2]);
    if (hi < lo) return null;
    return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  }
  if (!/^\d+(,\d+)*$/.test(trimmed)) return null;
  return trimmed.split(",").map(Number);
}
