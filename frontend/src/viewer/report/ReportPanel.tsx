import { useEffect, useRef, useState } from "react";
import { ApiError } from "../../api/ApiError";
import {
  addAddendum,
  conflictCurrent,
  getReport,
  listReportVersions,
  saveReport,
  signReport,
  type Report,
  type ReportContent,
  type ReportVersion,
} from "../../api/reports";
import { ErrorBox } from "../../components/ErrorBox";
import { errorCodeText, errorDetail } from "../../components/errorText";
import { useI18n } from "../../i18n/useI18n";
import { useLeaveGuard } from "../../router/useLeaveGuard";
import { contentOf, EMPTY_CONTENT, isDirty } from "./reportDraft";

const FIELDS = ["history", "findings", "impression"] as const;
const FIELD_KEYS = {
  history: "report.history",
  findings: "report.findings",
  impression: "report.impression",
} as const;

interface Props {
  studyId: string;
  /** Told about every report the server answers with (the case header shows its status). */
  onReport?: (report: Report) => void;
  /** The report was signed (the end of a clinical reading for the reading timer). */
  onSigned?: (pressedAt: Date) => void;
}

/** Read, edit, save and sign the study's Chinese report; shows a 409 conflict plainly. */
export function ReportPanel({ studyId, onReport, onSigned }: Props) {
  const { t } = useI18n();
  const [report, setReport] = useState<Report | null>(null);
  const [draft, setDraft] = useState<ReportContent>(EMPTY_CONTENT);
  const [loaded, setLoaded] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [conflict, setConflict] = useState<Report | null | undefined>(undefined);
  const [conflictError, setConflictError] = useState<ApiError | null>(null);
  const [versions, setVersions] = useState<ReportVersion[] | null>(null);
  const [addendum, setAddendum] = useState("");
  // One request at a time, decided synchronously: two clicks before React redraws the
  // disabled button would otherwise send the same base version twice (a false 409).
  const inFlight = useRef(false);
  const onReportRef = useRef(onReport);
  onReportRef.current = onReport;

  useEffect(() => {
    const controller = new AbortController();
    getReport(studyId, controller.signal)
      .then((r) => {
        setReport(r);
        setDraft(contentOf(r));
        onReportRef.current?.(r);
      })
      .catch((e: unknown) => {
        if (controller.signal.aborted) return;
        if (!(e instanceof ApiError && e.status === 404)) setError(e);
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoaded(true);
      });
    return () => controller.abort();
  }, [studyId]);

  const accept = (r: Report, message: string | null) => {
    setReport(r);
    setDraft(contentOf(r));
    setConflict(undefined);
    setNotice(message);
    setVersions(null);
    onReportRef.current?.(r);
  };

  /** Runs `request` unless one is already running; the lock and `busy` clear when it ends. */
  const exclusive = (request: () => Promise<void>) => {
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    setError(null);
    request()
      .catch(fail)
      .finally(() => {
        inFlight.current = false;
        setBusy(false);
      });
  };

  const fail = (e: unknown) => {
    if (e instanceof ApiError && e.status === 409) {
      setConflict(conflictCurrent(e.extra));
      setConflictError(e);
      setNotice(null);
      return;
    }
    setError(e);
  };

  const save = () =>
    exclusive(() =>
      saveReport(studyId, draft, report?.version ?? 0).then((r) =>
        accept(r, t("report.saved", { version: r.version })),
      ),
    );

  const sign = () => {
    if (inFlight.current) return;
    if (!report || !window.confirm(t("report.signConfirm", { version: report.version })))
      return;
    const pressedAt = new Date();
    exclusive(() =>
      signReport(studyId, report.version).then((r) => {
        accept(r, null);
        onSigned?.(pressedAt);
      }),
    );
  };

  const submitAddendum = () =>
    exclusive(() =>
      addAddendum(studyId, addendum).then((r) => {
        accept(r, null);
        setAddendum("");
      }),
    );

  const showVersions = () => {
    if (versions) {
      setVersions(null);
      return;
    }
    listReportVersions(studyId).then(setVersions).catch(setError);
  };

  const signed = report?.status === "signed";
  const dirty = isDirty(draft, report);
  useLeaveGuard(dirty || addendum.trim() !== "");

  return (
    <div className="side-section report-panel" data-testid="report-panel">
      <div className="side-head">
        <h2>{t("report.title")}</h2>
        {report && (
          <span className="muted" data-testid="report-version">
            {t("report.version", { version: report.version })}
          </span>
        )}
      </div>
      {!loaded && <p className="muted">{t("common.loading")}</p>}
      {loaded && !report && <p className="muted">{t("report.empty")}</p>}
      {error !== null && <ErrorBox error={error} />}
      {conflict !== undefined && (
        <div className="error-box conflict" role="alert" data-testid="report-conflict">
          <span title={errorDetail(conflictError) ?? undefined}>
            {conflictError?.code && conflictError.code !== "report_stale_version"
              ? errorCodeText(conflictError, t)
              : t("report.conflict", { version: conflict?.version ?? "?" })}
          </span>
          {conflict && (
            <button type="button" className="btn" onClick={() => accept(conflict, null)}>
              {t("report.loadCurrent")}
            </button>
          )}
        </div>
      )}
      {notice && (
        <p className="notice" data-testid="report-notice">
          {notice}
        </p>
      )}
      {FIELDS.map((field) => (
        <label className="field" key={field}>
          <span>{t(FIELD_KEYS[field])}</span>
          <textarea
            name={field}
            lang="zh-CN"
            rows={field === "findings" ? 7 : 3}
            value={draft[field]}
            readOnly={signed}
            onChange={(e) => setDraft((d) => ({ ...d, [field]: e.target.value }))}
          />
        </label>
      ))}
      {signed && report?.signed_by && (
        <p className="muted" data-testid="report-signed">
          {t("report.signed.by", {
            name: report.signed_by.display_name,
            time: report.signed_at ? new Date(report.signed_at).toLocaleString() : "",
          })}
        </p>
      )}
      {!signed && (
        <div className="report-actions">
          {dirty && <span className="muted">{t("report.unsaved")}</span>}
          <button
            type="button"
            className="btn btn-primary"
            data-testid="report-save"
            disabled={busy || !dirty}
            onClick={save}
          >
            {busy ? t("report.saving") : t("report.save")}
          </button>
          <button
            type="button"
            className="btn"
            data-testid="report-sign"
            disabled={busy || dirty || !report}
            onClick={sign}
          >
            {t("report.sign")}
          </button>
        </div>
      )}
      {signed && (
        <>
          {report?.addenda.map((a) => (
            <p key={a.number} className="addendum">
              <strong>
                {t("report.addendum")} {a.number}
              </strong>{" "}
              {a.text}
            </p>
          ))}
          <label className="field">
            <span>{t("report.addendum")}</span>
            <textarea
              name="addendum"
              rows={2}
              value={addendum}
              onChange={(e) => setAddendum(e.target.value)}
            />
          </label>
          <button
            type="button"
            className="btn"
            disabled={busy || addendum.trim() === ""}
            onClick={submitAddendum}
          >
            {t("report.addAddendum")}
          </button>
        </>
      )}
      {report && (
        <button type="button" className="btn btn-ghost" onClick={showVersions}>
          {t("report.versions")}
        </button>
      )}
      {versions && (
        <ol className="versions" data-testid="report-versions">
          {versions.map((v) => (
            <li key={v.version}>
              <strong>{t("report.version", { version: v.version })}</strong>{" "}
              <span className="muted">
                {v.author?.display_name ?? ""} {new Date(v.created).toLocaleString()}
              </span>
              <div className="version-impression">{v.impression}</div>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
