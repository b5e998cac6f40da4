import { useI18n } from "../i18n/useI18n";

export function WorklistPage() {
  const { t } = useI18n();
  return (
    <section className="page" data-testid="worklist">
      <h1>{t("worklist.title")}</h1>
    </section>
  );
}
