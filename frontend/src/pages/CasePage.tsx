import { useI18n } from "../i18n/useI18n";
import { Link } from "../router/Link";

export function CasePage({ studyId }: { studyId: string }) {
  const { t } = useI18n();
  return (
    <section className="page" data-testid="case" data-study-id={studyId}>
      <Link to="/worklist">{t("viewer.back")}</Link>
    </section>
  );
}
