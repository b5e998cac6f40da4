export type Language = "zh" | "en";

export const LANGUAGE_STORAGE_KEY = "boneread.language";

export function isLanguage(value: unknown): value is Language {
  return value === "zh" || value === "en";
}

/** Chinese for zh* browser locales, English otherwise. */
export function languageFromLocale(locale: string | undefined | null): Language {
  return locale && locale.toLowerCase().startsWith("zh") ? "zh" : "en";
}

/** The stored choice wins; otherwise the browser's locale decides. */
export function detectLanguage(
  storage: Pick<Storage, "getItem"> | null,
  locale: string | undefined | null,
): Language {
  let stored: string | null = null;
  try {
    stored = storage?.getItem(LANGUAGE_STORAGE_KEY) ?? null;
  } catch {
    // Storage can be blocked (private mode); fall back to the locale.
  }
  return isLanguage(stored) ? stored : languageFromLocale(locale);
}

export function storeLanguage(
  storage: Pick<Storage, "setItem"> | null,
  lang: Language,
): void {
  try {
    storage?.setItem(LANGUAGE_STORAGE_KEY, lang);
  } catch {
    // Not persisted; the choice still holds for this page.
  }
}

/** The account's preferred language ("zh-hans", "en", ...), when it names one we have. */
export function languageFromPreference(
  preference: string | null | undefined,
): Language | null {
  const p = (preference ?? "").toLowerCase();
  if (p.startsWith("zh")) return "zh";
  if (p.startsWith("en")) return "en";
  return null;
}

export function hasStoredLanguage(storage: Pick<Storage, "getItem"> | null): boolean {
  try {
    return isLanguage(storage?.getItem(LANGUAGE_STORAGE_KEY));
  } catch {
    return false;
  }
}
