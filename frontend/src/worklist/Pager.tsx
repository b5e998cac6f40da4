import { useI18n } from "../i18n/useI18n";

interface Props {
  page: number;
  pages: number;
  onPage: (page: number) => void;
}

export function Pager({ page, pages, onPage }: Props) {
  const { t } = useI18n();
  return (
    <nav className="pager" aria-label="pagination">
      <button
        type="button"
        className="btn"
        disabled={page <= 1}
        onClick={() => onPage(page - 1)}
      >
        {t("worklist.prev")}
      </button>
      <span>{t("worklist.page", { page, pages })}</span>
      <button
        type="button"
        className="btn"
        disabled={page >= pages}
        onClick={() => onPage(page + 1)}
      >
        {t("worklist.next")}
      </button>
    </nav>
  );
}
