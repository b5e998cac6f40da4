import { useI18n } from "../i18n/useI18n";

/** One button that flips between Chinese and English; the label is the other language. */
export function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <button
      type="button"
      className="btn btn-ghost"
      data-testid="language-switch"
      aria-label={t("lang.label")}
      onClick={() => setLang(lang === "zh" ? "en" : "zh")}
    >
      {t("lang.switch")}
    </button>
  );
}
