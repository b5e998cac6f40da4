import { useEffect, useState } from "react";
import { useI18n } from "../i18n/useI18n";
import { fmt } from "../readerStudyResults/format";
import {
  listPilots,
  planSampleSize,
  type AucComponents,
  type Pilot,
  type Plan,
  type PlanRequest,
  type TimeComponents,
} from "../api/sampleSize";
import { parseReaders } from "./parseReaders";
import { ssErrorText, ssText, type SsKey } from "./SampleSizePanel.messages";

const AUC_FIELDS: (keyof AucComponents)[] = [
  "var_tr",
  "var",
  "cov1",
  "cov2",
  "cov3",
  "n_cases",
];
const TIME_FIELDS: (keyof TimeComponents)[] = ["reader_arm", "residual"];

/** Empty text -> null; otherwise the number (NaN when it is not one: the server names it). */
function numberOrNull(text: string): number | null {
  return text.trim() === "" ? null : Number(text);
}

/**
 * Study design: how many readers and cases a study needs, from a finished pilot study's
 * variance components (or entered values). The server computes every number with the
 * statistics engine; this panel only collects the inputs and shows the tables.
 */
export function SampleSizePanel() {
  const { lang } = useI18n();
  const tr = (key: SsKey, params?: Record<string, string | number>) =>
    ssText(lang, key, params);
  const [pilots, setPilots] = useState<Pilot[] | null>(null);
  const [source, setSource] = useState<"pilot" | "values">("pilot");
  const [pilotId, setPilotId] = useState("");
  const [auc, setAuc] = useState("0.05");
  const [ratio, setRatio] = useState("0.8");
  const [power, setPower] = useState("0.8");
  const [alpha, setAlpha] = useState("0.05");
  const [readers, setReaders] = useState("4,6,8,10");
  const [nSim, setNSim] = useState("100");
  const [aucValues, setAucValues] = useState<Record<string, string>>({});
  const [timeValues, setTimeValues] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [localError, setLocalError] = useState<SsKey | null>(null);
  const [plan, setPlan] = useState<Plan | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    listPilots(controller.signal)
      .then((r) => setPilots(r.pilots))
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(e);
      });
    return () => controller.abort();
  }, []);

  const compute = () => {
    const readerList = parseReaders(readers);
    setError(null);
    setLocalError(null);
    if (readerList === null) {
      setLocalError("badReaders");
      return;
    }
    const body: PlanRequest = {
      source,
      auc_difference: numberOrNull(auc),
      time_ratio: numberOrNull(ratio),
      power: Number(power),
      alpha: Number(alpha),
      readers: readerList,
      n_sim: Number(nSim),
    };
    if (source === "pilot") body.pilot_study = pilotId;
    else {
      if (body.auc_difference !== null)
        body.auc_components = Object.fromEntries(
          AUC_FIELDS.map((f) => [f, numberOrNull(aucValues[f] ?? "")]),
        ) as unknown as AucComponents;
      if (body.time_ratio !== null)
        body.time_components = Object.fromEntries(
          TIME_FIELDS.map((f) => [f, numberOrNull(timeValues[f] ?? "")]),
        ) as unknown as TimeComponents;
    }
    setBusy(true);
    planSampleSize(body)
      .then(setPlan)
      .catch((e: unknown) => {
        setPlan(null);
        setError(e);
      })
      .finally(() => setBusy(false));
  };

  const field = (key: SsKey, value: string, set: (v: string) => void, testid: string) => (
    <label className="field">
      <span>{tr(key)}</span>
      <input
        type="text"
        inputMode="decimal"
        value={value}
        data-testid={testid}
        onChange={(e) => set(e.target.value)}
      />
    </label>
  );
  const cases = (value: number | null, max: number) =>
    value === null ? tr("unreachable", { max }) : String(value);

  return (
    <section className="rs-card" data-testid="samplesize-panel">
      <h2>{tr("title")}</h2>
      <p className="muted">{tr("intro")}</p>
      <fieldset>
        <legend>{tr("source")}</legend>
        <label>
          <input
            type="radio"
            name="samplesize-source"
            checked={source === "pilot"}
            data-testid="samplesize-source-pilot"
            onChange={() => setSource("pilot")}
          />
          {tr("sourcePilot")}
        </label>{" "}
        <label>
          <input
            type="radio"
            name="samplesize-source"
            checked={source === "values"}
            data-testid="samplesize-source-values"
            onChange={() => setSource("values")}
          />
          {tr("sourceValues")}
        </label>
      </fieldset>
      {source === "pilot" ? (
        <label className="field field-wide">
          <span>{tr("pilot")}</span>
          {pilots !== null && pilots.length === 0 ? (
            <span className="muted">{tr("noPilots")}</span>
          ) : (
            <select
              value={pilotId}
              data-testid="samplesize-pilot"
              onChange={(e) => setPilotId(e.target.value)}
            >
              <option value="">{tr("choosePilot")}</option>
              {(pilots ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.finished
                    ? p.title
                    : `${p.title} (${tr("notFinished", {
                        done: p.readings_done,
                        expected: p.readings_expected,
                      })})`}
                </option>
              ))}
            </select>
          )}
        </label>
      ) : (
        <div className="rs-form">
          <span>{tr("aucComponents")}</span>
          {AUC_FIELDS.map((f) => (
            <label className="field" key={f}>
              <span>{f}</span>
              <input
                type="text"
                inputMode="decimal"
                value={aucValues[f] ?? ""}
                data-testid={`samplesize-auc-${f}`}
                onChange={(e) => setAucValues({ ...aucValues, [f]: e.target.value })}
              />
            </label>
          ))}
          <span>{tr("timeComponents")}</span>
          {TIME_FIELDS.map((f) => (
            <label className="field" key={f}>
              <span>{f}</span>
              <input
                type="text"
                inputMode="decimal"
                value={timeValues[f] ?? ""}
                data-testid={`samplesize-time-${f}`}
                onChange={(e) => setTimeValues({ ...timeValues, [f]: e.target.value })}
              />
            </label>
          ))}
        </div>
      )}
      <div className="rs-form">
        {field("aucDifference", auc, setAuc, "samplesize-auc-difference")}
        {field("timeRatio", ratio, setRatio, "samplesize-time-ratio")}
        {field("power", power, setPower, "samplesize-power")}
        {field("alpha", alpha, setAlpha, "samplesize-alpha")}
        {field("readers", readers, setReaders, "samplesize-readers")}
        {field("nSim", nSim, setNSim, "samplesize-nsim")}
      </div>
      <div className="rs-actions">
        <button
          type="button"
          className="btn btn-primary"
          data-testid="samplesize-compute"
          disabled={busy}
          onClick={compute}
        >
          {tr("compute")}
        </button>
        {busy && <span className="muted">{tr("computing")}</span>}
      </div>
      {(error !== null || localError !== null) && (
        <div className="error-box" role="alert" data-testid="samplesize-error">
          {localError !== null ? tr(localError) : ssErrorText(lang, error)}
        </div>
      )}
      {plan !== null && (
        <div data-testid="samplesize-result">
          {plan.pilot && (
            <p data-testid="samplesize-pilot-line">
              {tr("pilotLine", {
                title: plan.pilot.title,
                readers: plan.pilot.n_readers,
                cases: plan.pilot.n_cases,
                auc: fmt(plan.pilot.observed_auc_difference),
                ratio: fmt(plan.pilot.observed_time_ratio, 2),
              })}
            </p>
          )}
          {plan.auc && (
            <table className="rs-table" data-testid="samplesize-auc-table">
              <caption>
                {tr("aucTable", { effect: String(plan.inputs.auc_difference) })}
              </caption>
              <thead>
                <tr>
                  <th>{tr("readersCol")}</th>
                  <th className="num">{tr("casesCol")}</th>
                  <th className="num">{tr("powerCol")}</th>
                </tr>
              </thead>
              <tbody>
                {plan.auc.rows.map((row) => (
                  <tr key={row.readers}>
                    <td>{row.readers}</td>
                    <td
                      className="num"
                      data-testid={`samplesize-auc-cases-${row.readers}`}
                    >
                      {cases(row.cases, plan.auc?.max_cases ?? 0)}
                    </td>
                    <td
                      className="num"
                      data-testid={`samplesize-auc-power-${row.readers}`}
                    >
                      {fmt(row.power)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {plan.time && (
            <table className="rs-table" data-testid="samplesize-time-table">
              <caption>
                {tr("timeTable", { ratio: String(plan.inputs.time_ratio) })}
              </caption>
              <thead>
                <tr>
                  <th>{tr("readersCol")}</th>
                  <th className="num">{tr("casesCol")}</th>
                  <th className="num">{tr("simPowerCol")}</th>
                  <th className="num">{tr("approxPowerCol")}</th>
                </tr>
              </thead>
              <tbody>
                {plan.time.rows.map((row) => (
                  <tr key={row.readers}>
                    <td>{row.readers}</td>
                    <td
                      className="num"
                      data-testid={`samplesize-time-cases-${row.readers}`}
                    >
                      {cases(row.cases, plan.time?.max_cases ?? 0)}
                    </td>
                    <td
                      className="num"
                      data-testid={`samplesize-time-power-${row.readers}`}
                    >
                      {row.power === null
                        ? "–"
                        : `${fmt(row.power, 2)} ± ${fmt(row.power_se, 2)}`}
                    </td>
                    <td className="num">{fmt(row.power_approx)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </section>
  );
}
