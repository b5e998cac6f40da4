import { useCallback, useEffect, useState } from "react";
import {
  EXPORT_KINDS,
  exportUrl,
  getResults,
  plotUrl,
  reportUrl,
  type AccuracyRow,
  type Arm,
  type PlotName,
  type Results,
  type ResultsQuery,
  type TimeMeasure,
} from "../api/readerStudyResults";
import { CenteredMessage } from "../components/CenteredMessage";
import { ErrorBox } from "../components/ErrorBox";
import { useI18n } from "../i18n/useI18n";
import { fmt, fmtCi, fmtP } from "./format";
import { backendLang, resultsText, type ResultsMessageKey } from "./messages";
import "./results.css";

type Load =
  | { state: "loading" }
  | { state: "error"; error: unknown }
  | { state: "ready"; results: Results };

/** The study admin's results page: design, time table, accuracy, MRMC, plots, flagged times. */
export function ResultsPage({ readerStudyId }: { readerStudyId: string }) {
  const { lang, t } = useI18n();
  const tr = useCallback((key: ResultsMessageKey) => resultsText(lang, key), [lang]);
  const [measure, setMeasure] = useState<TimeMeasure>("active");
  const [includeFlagged, setIncludeFlagged] = useState(false);
  const [load, setLoad] = useState<Load>({ state: "loading" });
  const [attempt, setAttempt] = useState(0);
  const query: ResultsQuery = { time: measure, includeFlagged };

  useEffect(() => {
    const controller = new AbortController();
    setLoad({ state: "loading" });
    getResults(readerStudyId, { time: measure, includeFlagged }, controller.signal)
      .then((results) => setLoad({ state: "ready", results }))
      .catch((error: unknown) => {
        if (!controller.signal.aborted) setLoad({ state: "error", error });
      });
    return () => controller.abort();
  }, [readerStudyId, measure, includeFlagged, attempt]);

  if (load.state === "loading")
    return <CenteredMessage>{t("common.loading")}</CenteredMessage>;
  if (load.state === "error")
    return <ErrorBox error={load.error} onRetry={() => setAttempt((n) => n + 1)} />;
  const { results } = load;
  const { design, time, accuracy, mrmc, lesions } = results;
  const armName = (arm: Arm | "") => (arm === "" ? "" : tr(arm));
  const plot = (name: PlotName) => (
    <figure className="rs-plot" key={name}>
      <img
        src={plotUrl(readerStudyId, name, query, backendLang(lang))}
        alt={tr(`plot.${name}`)}
        data-testid={`plot-${name}`}
      />
      <figcaption>{tr(`plot.${name}`)}</figcaption>
    </figure>
  );
  const accuracyRow = (row: AccuracyRow, label: string, pooled: boolean) => (
    <tr key={`${label}-${row.arm}`} className={pooled ? "rs-summary" : undefined}>
      <td>{label}</td>
      <td>{armName(row.arm)}</td>
      <td className="num">{fmt(row.sensitivity)}</td>
      <td className="num">{fmtCi(row.sensitivity_ci)}</td>
      <td className="num">{fmt(row.specificity)}</td>
      <td className="num">{fmtCi(row.specificity_ci)}</td>
      <td className="num">{fmt(row.auc)}</td>
      <td className="num">{fmtCi(row.auc_ci)}</td>
    </tr>
  );

  return (
    <div className="rs-results" data-testid="reader-study-results">
      <header className="rs-header">
        <h1>
          {tr("title")}: {results.study.name}
        </h1>
        <div className="rs-controls">
          <label>
            {tr("timeMeasure")}{" "}
            <select
              value={measure}
              onChange={(event) => setMeasure(event.target.value as TimeMeasure)}
              data-testid="time-measure"
            >
              <option value="active">{tr("measure.active")}</option>
              <option value="total">{tr("measure.total")}</option>
            </select>
          </label>
          <label>
            <input
              type="checkbox"
              checked={includeFlagged}
              onChange={(event) => setIncludeFlagged(event.target.checked)}
            />{" "}
            {tr("includeFlagged")}
          </label>
        </div>
      </header>
      {!design.complete && <p className="rs-warn">{tr("interim")}</p>}

      <section>
        <h2>{tr("design")}</h2>
        <dl className="rs-design">
          <dt>{tr("readers")}</dt>
          <dd data-testid="design-readers">{design.n_readers}</dd>
          <dt>{tr("cases")}</dt>
          <dd>
            {design.n_cases} ({design.n_positive} / {design.n_negative})
          </dd>
          <dt>{tr("sessions")}</dt>
          <dd>{design.n_sessions}</dd>
          <dt>{tr("washout")}</dt>
          <dd>{design.washout_days ?? "–"}</dd>
          <dt>{tr("readings")}</dt>
          <dd>
            {design.readings_done} / {design.readings_expected}
          </dd>
          <dt>{tr("flaggedExcluded")}</dt>
          <dd>{design.flagged_excluded}</dd>
        </dl>
        <div className="rs-downloads">
          <strong>{tr("downloads")}:</strong>{" "}
          <a
            href={reportUrl(readerStudyId, query, backendLang(lang))}
            data-testid="report-pdf"
          >
            {tr("pdf")}
          </a>
          {EXPORT_KINDS.map((kind) => (
            <a key={kind} href={exportUrl(readerStudyId, kind, query)}>
              {tr(`export.${kind}`)}
            </a>
          ))}
        </div>
      </section>

      <section>
        <h2>{tr("time")}</h2>
        {time === null ? (
          <p>{tr("noData")}</p>
        ) : (
          <>
            <table className="rs-table" data-testid="time-table">
              <thead>
                <tr>
                  <th>{tr("reader")}</th>
                  <th className="num">
                    {tr("unaided")} ({tr("minutes")})
                  </th>
                  <th className="num">
                    {tr("aided")} ({tr("minutes")})
                  </th>
                  <th className="num">{tr("readerRatio")}</th>
                  <th className="num">{tr("tP")}</th>
                  <th className="num">{tr("wilcoxonP")}</th>
                </tr>
              </thead>
              <tbody>
                {time.per_reader.map((row) => (
                  <tr key={row.reader}>
                    <td>{row.reader}</td>
                    <td className="num">{fmt(row.unaided_minutes, 1)}</td>
                    <td className="num">{fmt(row.aided_minutes, 1)}</td>
                    <td className="num" data-testid={`reader-ratio-${row.reader}`}>
                      {fmt(row.ratio, 2)} ({fmtCi(row.ratio_ci, 2)})
                    </td>
                    <td className="num">{fmtP(row.t_p)}</td>
                    <td className="num">{fmtP(row.wilcoxon_p)}</td>
                  </tr>
                ))}
                <tr className="rs-summary">
                  <td>{tr("mean")}</td>
                  <td className="num" data-testid="mean-unaided-minutes">
                    {fmt(time.mean_unaided_minutes, 1)}
                  </td>
                  <td className="num" data-testid="mean-aided-minutes">
                    {fmt(time.mean_aided_minutes, 1)}
                  </td>
                  <td />
                  <td />
                  <td />
                </tr>
              </tbody>
            </table>
            <p>
              {tr("ratioOfMeans")}:{" "}
              <span data-testid="ratio-of-means">{fmt(time.ratio_of_means, 2)}</span>
            </p>
            <p className="rs-headline">
              {tr("ratioLine")}: <b data-testid="time-ratio">{fmt(time.ratio, 2)}</b> (95%
              CI <span data-testid="time-ratio-ci">{fmtCi(time.ratio_ci, 2)}</span>; p{" "}
              {fmtP(time.ratio_p)})
            </p>
            {time.carryover && (
              <p>
                {tr("carryover")}: {fmt(time.carryover.estimate, 3)} (p{" "}
                {fmtP(time.carryover.p)})
              </p>
            )}
            <div className="rs-plots">
              {plot("paired-times")}
              {plot("case-times")}
            </div>
          </>
        )}
      </section>

      <section>
        <h2>{tr("accuracy")}</h2>
        {accuracy === null ? (
          <p>{tr("noData")}</p>
        ) : (
          <>
            <table className="rs-table" data-testid="accuracy-table">
              <thead>
                <tr>
                  <th>{tr("reader")}</th>
                  <th>{tr("arm")}</th>
                  <th className="num">{tr("sensitivity")}</th>
                  <th className="num">{tr("ci")}</th>
                  <th className="num">{tr("specificity")}</th>
                  <th className="num">{tr("ci")}</th>
                  <th className="num">{tr("auc")}</th>
                  <th className="num">{tr("ci")}</th>
                </tr>
              </thead>
              <tbody>
                {accuracy.per_reader.map((row) =>
                  accuracyRow(row, row.reader ?? "", false),
                )}
                {accuracy.pooled.map((row) => accuracyRow(row, tr("pooled"), true))}
              </tbody>
            </table>
            {accuracy.delong.length > 0 && (
              <>
                <h3>{tr("delong")}</h3>
                <table className="rs-table" data-testid="delong-table">
                  <thead>
                    <tr>
                      <th>{tr("reader")}</th>
                      <th className="num">{tr("unaided")}</th>
                      <th className="num">{tr("aided")}</th>
                      <th className="num">{tr("difference")}</th>
                      <th className="num">{tr("ci")}</th>
                      <th className="num">p</th>
                    </tr>
                  </thead>
                  <tbody>
                    {accuracy.delong.map((row) => (
                      <tr key={row.reader}>
                        <td>{row.reader}</td>
                        <td className="num">{fmt(row.auc_unaided)}</td>
                        <td className="num">{fmt(row.auc_aided)}</td>
                        <td className="num">{fmt(row.difference)}</td>
                        <td className="num">{fmtCi(row.ci)}</td>
                        <td className="num">{fmtP(row.p)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </>
            )}
          </>
        )}
        {mrmc && (
          <>
            <h3>{tr("mrmc")}</h3>
            <table className="rs-table" data-testid="mrmc-table">
              <thead>
                <tr>
                  <th className="num">
                    {tr("unaided")} {tr("auc")}
                  </th>
                  <th className="num">
                    {tr("aided")} {tr("auc")}
                  </th>
                  <th className="num">{tr("difference")}</th>
                  <th className="num">{tr("ci")}</th>
                  <th className="num">{mrmc.F !== undefined ? "F" : "χ²"}</th>
                  <th className="num">df</th>
                  <th className="num">p</th>
                </tr>
              </thead>
              <tbody>
                <tr>
                  <td className="num">{fmt(mrmc.auc_mean.unaided)}</td>
                  <td className="num">{fmt(mrmc.auc_mean.aided)}</td>
                  <td className="num" data-testid="mrmc-difference">
                    {fmt(mrmc.difference)}
                  </td>
                  <td className="num" data-testid="mrmc-ci">
                    {fmtCi(mrmc.ci)}
                  </td>
                  <td className="num">{fmt(mrmc.F ?? mrmc.chi2, 2)}</td>
                  <td className="num">
                    {fmt(mrmc.df_numerator, 0)}, {fmt(mrmc.df_denominator, 1)}
                  </td>
                  <td className="num">{fmtP(mrmc.p)}</td>
                </tr>
              </tbody>
            </table>
          </>
        )}
        <div className="rs-plots">
          {plot("roc")}
          {plot("forest")}
          {plot("roc-readers")}
        </div>
      </section>

      {lesions && (
        <section>
          <h2>{tr("lesions")}</h2>
          <table className="rs-table" data-testid="lesion-table">
            <thead>
              <tr>
                <th>{tr("reader")}</th>
                <th>{tr("arm")}</th>
                <th className="num">{tr("locSens")}</th>
                <th className="num">{tr("falseMarks")}</th>
                <th className="num">{tr("classAcc")}</th>
              </tr>
            </thead>
            <tbody>
              {[...lesions.per_reader, ...lesions.pooled].map((row) => (
                <tr key={`${row.reader ?? "pooled"}-${row.arm}`}>
                  <td>{row.reader ?? tr("pooled")}</td>
                  <td>{armName(row.arm)}</td>
                  <td className="num">{fmt(row.localisation_sensitivity)}</td>
                  <td className="num">{fmt(row.false_marks_per_case, 2)}</td>
                  <td className="num">{fmt(row.classification_accuracy)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}

      <section>
        <h2>{tr("flagged")}</h2>
        {results.flagged.length === 0 ? (
          <p>{tr("none")}</p>
        ) : (
          <table className="rs-table" data-testid="flagged-table">
            <thead>
              <tr>
                <th>{tr("reader")}</th>
                <th>{tr("case")}</th>
                <th>{tr("arm")}</th>
                <th className="num">{tr("session")}</th>
                <th className="num">{tr("seconds")}</th>
                <th>{tr("reason")}</th>
              </tr>
            </thead>
            <tbody>
              {results.flagged.map((row, index) => (
                <tr key={`${row.reader}-${row.case}-${index}`}>
                  <td>{row.reader}</td>
                  <td>{row.case}</td>
                  <td>{armName(row.arm)}</td>
                  <td className="num">{row.session ?? "–"}</td>
                  <td className="num">{fmt(row.seconds, 0)}</td>
                  <td>{row.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      {results.notes.length > 0 && (
        <section>
          <h2>{tr("notes")}</h2>
          <ul>
            {results.notes.map((note) => (
              <li key={note}>{note}</li>
            ))}
          </ul>
        </section>
      )}
      <p className="rs-methods">{tr("methods")}</p>
    </div>
  );
}
