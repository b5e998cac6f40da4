import type { AiStatus, StudyDetail } from "../api/studies";
import { alphabeticName, formatPersonName } from "../components/personName";
import { AiChip, ReportChip } from "../components/StatusChip";
import { useI18n } from "../i18n/useI18n";
import { Link } from "../router/Link";
import type { CaseNavigation } from "../worklist/useCaseNavigation";

interface Props {
  study: StudyDetail | null;
  /** The live AI state (polled), newer than the study's summary. */
  aiStatus: AiStatus | null;
  nav: CaseNavigation;
  onHelp: () => void;
}

export function CaseHeader({ study, aiStatus, nav, onHelp }: Props) {
  const { t } = useI18n();
  return (
    <div className="case-header">
      <Link to="/worklist" className="btn btn-ghost" data-testid="back-to-worklist">
        ← {t("viewer.back")}
      </Link>
      {study && (
        <div className="case-title">
          <strong data-testid="case-patient" title={alphabeticName(study.patient.name)}>
            {formatPersonName(study.patient.name)}
          </strong>
          <span>{study.patient.patient_id}</span>
          <span>{study.patient.sex}</span>
          <span>{study.study_date}</span>
          <span>{study.accession_number}</span>
          <span className="case-desc">{study.description}</span>
          <ReportChip status={study.report_status} />
          <AiChip status={aiStatus} />
        </div>
      )}
      <div className="case-nav">
        {nav.position !== null && nav.total !== null && (
          <span className="case-pos">
            {t("viewer.caseOf", { index: nav.position, total: nav.total })}
          </span>
        )}
        <button
          type="button"
          className="btn"
          data-testid="prev-case"
          disabled={!nav.canPrev}
          onClick={() => nav.go(-1)}
        >
          {t("viewer.prevCase")}
        </button>
        <button
          type="button"
          className="btn"
          data-testid="next-case"
          disabled={!nav.canNext}
          onClick={() => nav.go(1)}
        >
          {t("viewer.nextCase")}
        </button>
        <button type="button" className="btn btn-ghost" onClick={onHelp} title="?">
          {t("topbar.shortcuts")}
        </button>
      </div>
    </div>
  );
}
