/**
 * A DICOM person name for display. "ZHANG^WEI=张^伟" has an alphabetic and an
 * ideographic group: show the ideographic one (without separators, as Chinese
 * names are written) and fall back to the alphabetic one with spaces.
 */
export function formatPersonName(raw: string | null | undefined): string {
  if (!raw) return "";
  const [alphabetic = "", ideographic = ""] = raw.split("=");
  const ideo = ideographic.split("^").filter(Boolean).join("");
  if (ideo !== "") return ideo;
  return alphabetic.split("^").filter(Boolean).join(" ").trim();
}

/** The alphabetic (pinyin) form, for search hints and tooltips. */
export function alphabeticName(raw: string | null | undefined): string {
  if (!raw) return "";
  return (raw.split("=")[0] ?? "").split("^").filter(Boolean).join(" ").trim();
}
