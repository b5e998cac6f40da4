import { useI18n } from "../i18n/useI18n";
import { errorDetail, errorText } from "./errorText";

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useI18n();
  return (
    <div className="error-box" role="alert">
      <span title={errorDetail(error) ?? undefined} data-testid="error-text">
        {errorText(error, t)}
      </span>
      {onRetry && (
        <button type="button" className="btn" onClick={onRetry}>
          {t("common.retry")}
        </button>
      )}
    </div>
  );
}
