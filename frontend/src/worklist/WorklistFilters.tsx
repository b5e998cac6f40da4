import { useState, type FormEvent } from "react";
import { useI18n } from "../i18n/useI18n";
import { EMPTY_QUERY, type WorklistQuery } from "./worklistQuery";

const MODALITIES = ["NM", "CT", "SEG"];

interface Props {
  query: WorklistQuery;
  onApply: (query: WorklistQuery) => void;
}

export function WorklistFilters({ query, onApply }: Props) {
  const { t } = useI18n();
  const [draft, setDraft] = useState<WorklistQuery>(query);
  const set = <K extends keyof WorklistQuery>(key: K, value: WorklistQuery[K]) =>
    setDraft((d) => ({ ...d, [key]: value }));

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    onApply({ ...draft, page: 1 });
  };

  return (
    <form className="worklist-filters" onSubmit={submit} role="search">
      <label className="field field-wide">
        <span>{t("worklist.search")}</span>
        <input
          name="search"
          type="search"
          value={draft.search}
          onChange={(e) => set("search", e.target.value)}
        />
      </label>
      <label className="field">
        <span>{t("worklist.modality")}</span>
        <select
          name="modality"
          value={draft.modality}
          onChange={(e) => set("modality", e.target.value)}
        >
          <option value="">{t("worklist.any")}</option>
          {MODALITIES.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>{t("worklist.dateFrom")}</span>
        <input
          name="date_from"
          type="date"
          value={draft.date_from}
          onChange={(e) => set("date_from", e.target.value)}
        />
      </label>
      <label className="field">
        <span>{t("worklist.dateTo")}</span>
        <input
          name="date_to"
          type="date"
          value={draft.date_to}
          onChange={(e) => set("date_to", e.target.value)}
        />
      </label>
      <label className="field">
        <span>{t("worklist.reportStatus")}</span>
        <select
          name="report_status"
          value={draft.report_status}
          onChange={(e) => set("report_status", e.target.value)}
        >
          <option value="">{t("worklist.any")}</option>
          <option value="none">{t("report.none")}</option>
          <option value="draft">{t("report.draft")}</option>
          <option value="signed">{t("report.signed")}</option>
        </select>
      </label>
      <label className="field">
        <span>{t("worklist.aiStatus")}</span>
        <select
          name="ai_status"
          value={draft.ai_status}
          onChange={(e) => set("ai_status", e.target.value)}
        >
          <option value="">{t("worklist.any")}</option>
          <option value="none">{t("ai.none")}</option>
          <option value="queued">{t("ai.queued")}</option>
          <option value="running">{t("ai.running")}</option>
          <option value="succeeded">{t("ai.succeeded")}</option>
          <option value="failed">{t("ai.failed")}</option>
        </select>
      </label>
      <div className="worklist-filter-actions">
        <button type="submit" className="btn btn-primary">
          {t("worklist.apply")}
        </button>
        <button
          type="button"
          className="btn"
          onClick={() => {
            const cleared = { ...EMPTY_QUERY, page_size: query.page_size };
            setDraft(cleared);
            onApply(cleared);
          }}
        >
          {t("worklist.clear")}
        </button>
      </div>
    </form>
  );
}
