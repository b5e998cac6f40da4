import type { StudyStatus } from "../api/status";
import type { StudySummary } from "../api/studies";
import { alphabeticName, formatPersonName } from "../components/personName";
import { AiChip, ReportChip } from "../components/StatusChip";
import { useI18n } from "../i18n/useI18n";
import type { MessageKey } from "../i18n/messages";
import { navigate } from "../router/history";
import { Link } from "../router/Link";
import { casePath } from "../router/routes";
import { SortHeader } from "./SortHeader";

const KIND_KEYS: Record<string, MessageKey> = {
  planar: "kind.planar",
  spectct: "kind.spectct",
  other: "kind.other",
};

interface Props {
  studies: StudySummary[];
  ordering: string;
  onSort: (field: string) => void;
  /** Live statuses (polled); newer than the page's summaries. */
  live?: ReadonlyMap<string, StudyStatus>;
}

export function WorklistTable({ studies, ordering, onSort, live }: Props) {
  const { t } = useI18n();
  const sort = { ordering, onSort };
  return (
    <table className="worklist-table" data-testid="worklist-table">
      <thead>
        <tr>
          <SortHeader field="patient_name" {...sort}>
            {t("worklist.col.patient")}
          </SortHeader>
          <SortHeader field="patient_id" {...sort}>
            {t("worklist.col.patientId")}
          </SortHeader>
          <SortHeader field="study_date" {...sort}>
            {t("worklist.col.date")}
          </SortHeader>
          <SortHeader field="accession_number" {...sort}>
            {t("worklist.col.accession")}
          </SortHeader>
          <th>{t("worklist.col.description")}</th>
          <th>{t("worklist.col.modalities")}</th>
          <th>{t("worklist.col.kind")}</th>
          <th className="num">{t("worklist.col.images")}</th>
          <SortHeader field="report_status" {...sort}>
            {t("worklist.col.report")}
          </SortHeader>
          <SortHeader field="ai_status" {...sort}>
            {t("worklist.col.ai")}
          </SortHeader>
        </tr>
      </thead>
      <tbody>
        {studies.map((s) => {
          const to = casePath(s.id);
          const now = live?.get(s.id);
          return (
            <tr
              key={s.id}
              className="worklist-row"
              data-study-id={s.id}
              onDoubleClick={() => navigate(to)}
            >
              <td>
                <Link
                  to={to}
                  className="worklist-open"
                  title={alphabeticName(s.patient.name)}
                >
                  {formatPersonName(s.patient.name) || t("common.none")}
                </Link>
              </td>
              <td>{s.patient.patient_id}</td>
              <td>{s.study_date ?? t("common.none")}</td>
              <td>{s.accession_number || t("common.none")}</td>
              <td>{s.description}</td>
              <td>{s.modalities.join(" / ")}</td>
              <td>{t(KIND_KEYS[s.kind] ?? "kind.other")}</td>
              <td className="num">{s.number_of_instances}</td>
              <td>
                <ReportChip status={now ? now.report_status : s.report_status} />
              </td>
              <td>
                <AiChip status={now ? now.ai_status : s.ai_status} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
