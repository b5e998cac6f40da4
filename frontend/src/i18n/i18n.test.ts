import { describe, expect, it } from "vitest";
import {
  LANGUAGE_STORAGE_KEY,
  detectLanguage,
  hasStoredLanguage,
  languageFromPreference,
  languageFromLocale,
  storeLanguage,
} from "./language";
import { en, zh } from "./messages";
import { translate } from "./translate";

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    getItem: (key: string) => data.get(key) ?? null,
    setItem: (key: string, value: string) => void data.set(key, value),
  };
}

describe("language detection", () => {
  it("picks Chinese for zh locales and English otherwise", () => {
    expect(languageFromLocale("zh-CN")).toBe("zh");
    expect(languageFromLocale("zh-Hans-CN")).toBe("zh");
    expect(languageFromLocale("ZH")).toBe("zh");
    expect(languageFromLocale("en-US")).toBe("en");
    expect(languageFromLocale("de")).toBe("en");
    expect(languageFromLocale(undefined)).toBe("en");
  });

  it("prefers the stored choice over the locale", () => {
    expect(detectLanguage(memoryStorage({ [LANGUAGE_STORAGE_KEY]: "en" }), "zh-CN")).toBe(
      "en",
    );
    expect(detectLanguage(memoryStorage({ [LANGUAGE_STORAGE_KEY]: "zh" }), "en-US")).toBe(
      "zh",
    );
  });

  it("ignores a stored value that is not a language", () => {
    expect(detectLanguage(memoryStorage({ [LANGUAGE_STORAGE_KEY]: "fr" }), "zh-TW")).toBe(
      "zh",
    );
  });

  it("survives storage that throws", () => {
    const broken = {
      getItem: () => {
        throw new Error("blocked");
      },
    };
    expect(detectLanguage(broken, "en-GB")).toBe("en");
  });

  it("persists the choice", () => {
    const storage = memoryStorage();
    storeLanguage(storage, "zh");
    expect(detectLanguage(storage, "en")).toBe("zh");
  });
});

describe("translate", () => {
  it("returns each language's text", () => {
    expect(translate("zh", "login.submit")).toBe("登录");
    expect(translate("en", "login.submit")).toBe("Sign in");
  });
  it("fills placeholders", () => {
    expect(translate("en", "worklist.page", { page: 2, pages: 5 })).toBe("Page 2 of 5");
    expect(translate("zh", "worklist.count", { count: 12 })).toBe("共 12 个检查");
  });
  it("has a non-empty Chinese text for every English key", () => {
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(zh[key].length, key).toBeGreaterThan(0);
    }
  });
});

describe("account preference", () => {
  it("maps the account's language to ours", () => {
    expect(languageFromPreference("zh-hans")).toBe("zh");
    expect(languageFromPreference("en-us")).toBe("en");
    expect(languageFromPreference("")).toBeNull();
    expect(languageFromPreference(null)).toBeNull();
  });
  it("knows whether the user chose a language on this browser", () => {
    expect(hasStoredLanguage(memoryStorage())).toBe(false);
    expect(hasStoredLanguage(memoryStorage({ [LANGUAGE_STORAGE_KEY]: "en" }))).toBe(true);
  });
});
