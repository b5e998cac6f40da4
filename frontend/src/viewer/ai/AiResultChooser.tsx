import type { AiResultSummary } from "../../api/inference";
import { useI18n } from "../../i18n/useI18n";
import type { StudyAiState } from "./useStudyAi";

function lesionTotal(summary: AiResultSummary): number {
  return Object.values(summary.lesion_counts).reduce((a, b) => a + b, 0);
}

/**
 * Announces a newer AI result than the one shown (e.g. the re-run after signing) with a
 * "show new result" button, and lets the reader pick any result of the study by job.
 */
export function AiResultChooser({ state }: { state: StudyAiState }) {
  const { t } = useI18n();
  const { ai, newerResult, newerArrived, choose } = state;
  const shown = ai?.result ?? null;
  const results = ai?.results ?? [];
  return (
    <>
      {newerResult && (
        <div className="ai-new-result" role="status" data-testid="ai-new-result">
          <span>
            {newerArrived
              ? newerResult.report_version !== null
                ? t("ai.newResult", { version: newerResult.report_version })
                : t("ai.newResultNoVersion")
              : t("ai.resultOlder")}
          </span>
          <button
            type="button"
            className="btn btn-primary"
            data-testid="ai-show-new-result"
            onClick={() => choose(newerResult.job_id)}
          >
            {t("ai.showNewResult")}
          </button>
        </div>
      )}
      {results.length > 1 && shown && (
        <label className="field ai-result-picker">
          <span>{t("ai.resultPicker")}</span>
          <select
            data-testid="ai-result-picker"
            value={shown.job_id}
            onChange={(e) => choose(e.target.value)}
          >
            {results.map((r, index) => {
              const time = r.finished_at ? new Date(r.finished_at).toLocaleString() : "";
              const label =
                r.report_version !== null
                  ? t("ai.resultOption", {
                      time,
                      version: r.report_version,
                      count: lesionTotal(r),
                    })
                  : t("ai.resultOptionNoVersion", { time, count: lesionTotal(r) });
              return (
                <option key={r.job_id} value={r.job_id}>
                  {index === 0 ? `${label} ${t("ai.resultNewest")}` : label}
                </option>
              );
            })}
          </select>
        </label>
      )}
    </>
  );
}
