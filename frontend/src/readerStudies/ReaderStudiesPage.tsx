import { useState, type FormEvent } from "react";
import { createStudy, listStudies, type StudyDesign } from "../api/readerStudies";
import { CenteredMessage } from "../components/CenteredMessage";
import { useI18n } from "../i18n/useI18n";
import { useAsync } from "../lib/hooks/useAsync";
import { navigate } from "../router/history";
import { Link } from "../router/Link";
import { rsErrorText, useRsI18n, type RsKey } from "./messages";
import { adminStudyPath } from "./paths";

/** Study admin: the reader studies they administer, and a new one. */
export function ReaderStudiesPage() {
  const { t } = useI18n();
  const { tr } = useRsI18n();
  const [state, retry] = useAsync((signal) => listStudies(signal), []);
  const [title, setTitle] = useState("");
  const [design, setDesign] = useState<StudyDesign>("crossover");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const create = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    createStudy({ title: title.trim(), design })
      .then((study) => navigate(adminStudyPath(study.id)))
      .catch((e: unknown) => setError(rsErrorText(e, tr)))
      .finally(() => setBusy(false));
  };

  return (
    <section className="page reader-studies" data-testid="reader-studies">
      <h1>{tr("admin.title")}</h1>
      <form className="rs-card rs-form" onSubmit={create} data-testid="new-study">
        <h2>{tr("admin.new")}</h2>
        <label className="field">
          <span>{tr("admin.name")}</span>
          <input
            name="title"
            value={title}
            onChange={(e) => setTitle(e.target.value)}
            required
          />
        </label>
        <label className="field">
          <span>{tr("admin.design")}</span>
          <select
            name="design"
            value={design}
            onChange={(e) => setDesign(e.target.value as StudyDesign)}
          >
            <option value="crossover">{tr("admin.crossover")}</option>
            <option value="parallel">{tr("admin.parallel")}</option>
          </select>
        </label>
        {error && (
          <div className="error-box" role="alert">
            {error}
          </div>
        )}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {tr("admin.create")}
        </button>
      </form>
      {state.status === "loading" && state.data === null && (
        <CenteredMessage>{t("common.loading")}</CenteredMessage>
      )}
      {state.status === "error" && (
        <div className="error-box" role="alert">
          <span>{rsErrorText(state.error, tr)}</span>
          <button type="button" className="btn" onClick={retry}>
            {t("common.retry")}
          </button>
        </div>
      )}
      {state.data && state.data.length === 0 && (
        <p className="muted">{tr("admin.none")}</p>
      )}
      {state.data && state.data.length > 0 && (
        <table className="worklist-table">
          <tbody>
            {state.data.map((study) => (
              <tr key={study.id} data-testid="reader-study-row">
                <td>
                  <Link to={adminStudyPath(study.id)}>{study.title}</Link>
                </td>
                <td>{tr(`state.${study.state}` as RsKey)}</td>
                <td>
                  {tr(
                    study.design === "crossover" ? "admin.crossover" : "admin.parallel",
                  )}
                </td>
                <td>{tr("admin.caseCount", { count: study.case_count })}</td>
                <td>{tr("admin.readerCount", { count: study.reader_count })}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
