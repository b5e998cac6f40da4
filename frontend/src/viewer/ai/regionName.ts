import { dictionaries, type MessageKey } from "../../i18n/messages";
import type { Translate } from "../../i18n/translate";

const CODE = /^([a-z_]+)(?::(left|right|mid)(?::(\d+))?)?$/;
const SPINE = new Set(["cervical_spine", "thoracic_spine", "lumbar_spine"]);

function isKey(key: string): key is MessageKey {
  return key in dictionaries.en;
}

/**
 * A lesion's region in the user's language from the server's region code
 * (`site`, `site:side`, `site:side:level`; see docs/api.md). Without a code, or with a code
 * this build does not know, the server's text is shown as it is.
 */
export function regionName(
  code: string | null | undefined,
  fallback: string | null | undefined,
  t: Translate,
): string {
  const match = code ? CODE.exec(code) : null;
  if (!match) return fallback ?? "";
  const [, site = "", side, level] = match;
  const siteKey = `region.${site}`;
  if (!isKey(siteKey)) return fallback ?? code ?? "";
  let name = t(siteKey);
  if (level !== undefined && site === "rib") name = t("region.rib.level", { level });
  else if (level !== undefined && SPINE.has(site))
    name = t("region.spine.level", { site: name, level });
  if (side === "left" || side === "right")
    return t("region.withSide", { side: t(`region.side.${side}`), site: name });
  return name;
}
