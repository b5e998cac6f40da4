import { createContext } from "react";
import type { Language } from "./language";
import type { Translate } from "./translate";

export interface I18nValue {
  lang: Language;
  setLang: (lang: Language) => void;
  t: Translate;
}

export const I18nContext = createContext<I18nValue | null>(null);
