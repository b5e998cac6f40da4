import type { Language } from "./language";
import { dictionaries, type MessageKey } from "./messages";

export type TranslateParams = Record<string, string | number>;
export type Translate = (key: MessageKey, params?: TranslateParams) => string;

/** Looks a key up and fills `{name}` placeholders; unknown placeholders stay visible. */
export function translate(
  lang: Language,
  key: MessageKey,
  params?: TranslateParams,
): string {
  const template = dictionaries[lang][key];
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (match, name: string) =>
    name in params ? String(params[name]) : match,
  );
}
