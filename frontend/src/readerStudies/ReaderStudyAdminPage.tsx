import { useEffect, useState, type ReactNode } from "react";
import {
  addCases,
  addReader,
  candidateReaders,
  candidateStudies,
  freezeAi,
  getAiProgress,
  getFlags,
  getProgress,
  getSchedule,
  getStudyDetail,
  importTruthCsv,
  listCases,
  listReaders,
  listReadings,
  precomputeAi,
  removeCase,
  removeReader,
  reopenReading,
  setTruth,
  startSession,
  studyAction,
  truthFromSeg,
  updateStudy,
  type AiTextSource,
  type StudyAction,
  type StudyDesign,
  type StudyDetail,
  type StudyInput,
} from "../api/readerStudies";
import { CenteredMessage } from "../components/CenteredMessage";
import { useI18n } from "../i18n/useI18n";
import { useAsync } from "../lib/hooks/useAsync";
import { Link } from "../router/Link";
import { readerStudyResultsPath } from "../router/routes";
import { AnswerCorrectionSection } from "./AnswerCorrection";
import { rsErrorText, useRsI18n, type RsKey, type RsTranslate } from "./messages";
import { ADMIN_PATH } from "./paths";
import { SampleSizePanel } from "./SampleSizePanel";

const POLL_MS = 2000;

function seconds(value: number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  const s = Math.round(value);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

/** Runs one admin action, shows its error in the user's language, then reloads the page's data. */
function useRunner(tr: RsTranslate, reload: () => void) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = (action: () => Promise<unknown>, after?: (value: unknown) => void) => {
    setBusy(true);
    setError(null);
    action()
      .then((value) => {
        after?.(value);
        reload();
      })
      .catch((e: unknown) => setError(rsErrorText(e, tr)))
      .finally(() => setBusy(false));
  };
  return { error, busy, run, setError };
}

function Section({
  title,
  testid,
  children,
}: {
  title: string;
  testid: string;
  children: ReactNode;
}) {
  return (
    <section className="rs-card" data-testid={testid}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

/**
 * Study admin: one reader study from design to progress. Every change goes
 * through the server, which refuses what the study's state does not allow
 * (the reason is shown here in the user's language).
 */
export function ReaderStudyAdminPage({ studyId }: { studyId: string }) {
  const { t } = useI18n();
  const { tr } = useRsI18n();
  const [version, setVersion] = useState(0);
  const reload = () => setVersion((n) => n + 1);
  const [detail, retry] = useAsync(
    (signal) => getStudyDetail(studyId, signal),
    [studyId, version],
  );
  const runner = useRunner(tr, reload);

  if (detail.status === "error" && detail.data === null) {
    return (
      <div className="page">
        <div className="error-box" role="alert">
          <span>{rsErrorText(detail.error, tr)}</span>
          <button type="button" className="btn" onClick={retry}>
            {t("common.retry")}
          </button>
        </div>
      </div>
    );
  }
  const study = detail.data;
  if (study === null) return <CenteredMessage>{t("common.loading")}</CenteredMessage>;
  const draft = study.state === "draft";

  return (
    <section className="page reader-study-admin" data-testid="reader-study-admin">
      <Link to={ADMIN_PATH}>{tr("admin.back")}</Link>
      <h1>{study.title}</h1>
      {!draft && (
        <p>
          <Link to={readerStudyResultsPath(study.id)}>{tr("admin.results")}</Link>
        </p>
      )}
      <p data-testid="study-state" data-state={study.state}>
        {tr("admin.state")}: {tr(`state.${study.state}` as RsKey)}
      </p>
      {runner.error && (
        <div className="error-box" role="alert" data-testid="admin-error">
          {runner.error}
        </div>
      )}
      <StateSection study={study} runner={runner} />
      <SettingsSection key={`settings-${version}`} study={study} runner={runner} />
      <SampleSizePanel />
      <CasesSection studyId={studyId} draft={draft} version={version} runner={runner} />
      <ReadersSection studyId={studyId} draft={draft} version={version} runner={runner} />
      <ScheduleSection studyId={studyId} version={version} />
      <AiSection studyId={studyId} draft={draft} version={version} runner={runner} />
      {!draft && (
        <>
          <ProgressSection studyId={studyId} version={version} runner={runner} />
          <ReadingsSection studyId={studyId} version={version} runner={runner} />
          <AnswerCorrectionSection
            studyId={studyId}
            version={version}
            onChanged={reload}
          />
          <FlagsSection studyId={studyId} version={version} />
        </>
      )}
    </section>
  );
}

type Runner = ReturnType<typeof useRunner>;

function StateSection({ study, runner }: { study: StudyDetail; runner: Runner }) {
  const { tr } = useRsI18n();
  const act = (action: StudyAction) => {
    const needsReason = action === "pause" || action === "close";
    const reason = needsReason ? (window.prompt(tr(`admin.${action}`)) ?? "") : undefined;
    runner.run(() => studyAction(study.id, action, reason));
  };
  const actions: StudyAction[] =
    study.state === "draft"
      ? ["start"]
      : study.state === "open"
        ? ["pause", "close"]
        : study.state === "paused"
          ? ["resume", "close"]
          : [];
  return (
    <Section title={tr("admin.state")} testid="state-section">
      {study.state === "draft" && study.start_problems.length > 0 && (
        <div className="notice" data-testid="start-problems">
          {tr("admin.startProblems")}
          <ul>
            {study.start_problems.map((p, i) => (
              <li key={i} data-code={p.code}>
                {p.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <div className="rs-actions">
        {actions.map((action) => (
          <button
            key={action}
            type="button"
            className={action === "start" ? "btn btn-primary" : "btn"}
            data-testid={`study-${action}`}
            disabled={runner.busy}
            onClick={() => act(action)}
          >
            {tr(`admin.${action}`)}
          </button>
        ))}
      </div>
      {study.state_history.length > 0 && (
        <ul className="muted">
          {study.state_history.map((h, i) => (
            <li key={i}>
              {h.at} {h.from_state} → {h.to_state} {h.by?.username ?? ""} {h.reason}
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

function SettingsSection({ study, runner }: { study: StudyDetail; runner: Runner }) {
  const { tr } = useRsI18n();
  const [form, setForm] = useState<StudyInput>({
    design: study.design,
    washout_days: study.washout_days,
    ai_text_source: study.ai_text_source,
    max_case_seconds: study.max_case_seconds,
    seed: study.seed,
  });
  const locked = study.state !== "draft";
  return (
    <Section title={tr("admin.design")} testid="settings-section">
      <form
        className="rs-form"
        onSubmit={(e) => {
          e.preventDefault();
          runner.run(() => updateStudy(study.id, form));
        }}
      >
        <fieldset disabled={locked}>
          <label className="field">
            <span>{tr("admin.design")}</span>
            <select
              name="design"
              value={form.design}
              onChange={(e) =>
                setForm({ ...form, design: e.target.value as StudyDesign })
              }
            >
              <option value="crossover">{tr("admin.crossover")}</option>
              <option value="parallel">{tr("admin.parallel")}</option>
            </select>
          </label>
          <label className="field">
            <span>{tr("admin.washout")}</span>
            <input
              type="number"
              name="washout_days"
              min={0}
              max={365}
              value={form.washout_days ?? 0}
              onChange={(e) => setForm({ ...form, washout_days: Number(e.target.value) })}
            />
          </label>
          <label className="field">
            <span>{tr("admin.textSource")}</span>
            <select
              name="ai_text_source"
              value={form.ai_text_source}
              onChange={(e) =>
                setForm({ ...form, ai_text_source: e.target.value as AiTextSource })
              }
            >
              <option value="history">{tr("admin.textHistory")}</option>
              <option value="report">{tr("admin.textReport")}</option>
            </select>
          </label>
          <label className="field">
            <span>{tr("admin.maxCase")}</span>
            <input
              type="number"
              name="max_case_seconds"
              min={60}
              value={form.max_case_seconds ?? 7200}
              onChange={(e) =>
                setForm({ ...form, max_case_seconds: Number(e.target.value) })
              }
            />
          </label>
          <label className="field">
            <span>{tr("admin.seed")}</span>
            <input
              type="number"
              name="seed"
              value={form.seed ?? 0}
              onChange={(e) => setForm({ ...form, seed: Number(e.target.value) })}
            />
          </label>
          <button type="submit" className="btn" data-testid="save-settings">
            {tr("admin.save")}
          </button>
        </fieldset>
      </form>
    </Section>
  );
}

function CasesSection({
  studyId,
  draft,
  version,
  runner,
}: {
  studyId: string;
  draft: boolean;
  version: number;
  runner: Runner;
}) {
  const { tr } = useRsI18n();
  const [cases] = useAsync((signal) => listCases(studyId, signal), [studyId, version]);
  const [ids, setIds] = useState("");
  const [query, setQuery] = useState("");
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [candidates] = useAsync(
    (signal) =>
      draft ? candidateStudies({ q: query, limit: 100 }, signal) : Promise.resolve([]),
    [draft, query, version],
  );
  const inStudy = new Set((cases.data ?? []).map((c) => c.study_id));
  const toggle = (id: string) =>
    setPicked((old) => {
      const next = new Set(old);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const [csv, setCsv] = useState("");
  const [imported, setImported] = useState<string | null>(null);
  return (
    <Section title={tr("admin.cases")} testid="cases-section">
      {draft && (
        <div className="rs-form">
          <label className="field">
            <span>{tr("admin.searchArchive")}</span>
            <input
              name="case_query"
              value={query}
              onChange={(e) => setQuery(e.target.value)}
            />
          </label>
          <ul className="rs-picker" data-testid="case-picker">
            {(candidates.data ?? [])
              .filter((c) => !inStudy.has(c.id))
              .map((c) => (
                <li key={c.id}>
                  <label>
                    <input
                      type="checkbox"
                      data-testid="pick-case"
                      data-study-id={c.id}
                      checked={picked.has(c.id)}
                      onChange={() => toggle(c.id)}
                    />{" "}
                    {c.accession_number || c.study_instance_uid} · {c.kind} ·{" "}
                    {c.study_date ?? ""} {c.description}
                    {c.has_seg ? " · SEG" : ""}
                  </label>
                </li>
              ))}
          </ul>
          <label className="field">
            <span>{tr("admin.addCases")}</span>
            <textarea
              name="study_ids"
              rows={3}
              value={ids}
              onChange={(e) => setIds(e.target.value)}
            />
          </label>
          <button
            type="button"
            className="btn"
            data-testid="add-cases"
            onClick={() =>
              runner.run(
                () =>
                  addCases(studyId, [
                    ...picked,
                    ...ids.split(/[\s,]+/).filter((id) => id !== ""),
                  ]),
                () => {
                  setIds("");
                  setPicked(new Set());
                },
              )
            }
          >
            {tr("admin.add")}
          </button>
          <label className="field">
            <span>{tr("admin.importCsv")}</span>
            <input
              type="file"
              accept=".csv,text/csv"
              onChange={(e) => {
                const file = e.target.files?.[0];
                if (file) void file.text().then(setCsv);
              }}
            />
            <textarea
              name="truth_csv"
              rows={3}
              value={csv}
              onChange={(e) => setCsv(e.target.value)}
            />
          </label>
          <button
            type="button"
            className="btn"
            data-testid="import-truth"
            onClick={() =>
              runner.run(
                () => importTruthCsv(studyId, csv),
                (value) => {
                  const r = value as { cases_updated: number; lesions: number };
                  setImported(
                    tr("admin.imported", { cases: r.cases_updated, lesions: r.lesions }),
                  );
                },
              )
            }
          >
            {tr("admin.import")}
          </button>
          {imported && <p className="notice">{imported}</p>}
        </div>
      )}
      <table className="worklist-table">
        <tbody>
          {(cases.data ?? []).map((c) => (
            <tr key={c.id} data-testid="case-row" data-case-id={c.id}>
              <td>{c.accession_number || c.study_instance_uid}</td>
              <td>{c.kind}</td>
              <td
                data-testid="truth"
                data-truth={c.truth ? String(c.truth.metastasis_present) : ""}
              >
                {tr("admin.truth")}:{" "}
                {c.truth === null
                  ? tr("admin.truthMissing")
                  : c.truth.metastasis_present
                    ? tr("admin.truthYes")
                    : tr("admin.truthNo")}
                {c.truth ? ` (${c.truth.lesions.length})` : ""}
              </td>
              <td>
                {c.ai ? `AI ${c.ai.checksum.slice(0, 8)}` : (c.ai_job?.state ?? "")}
              </td>
              {draft && (
                <td className="rs-actions">
                  <button
                    type="button"
                    className="btn btn-ghost"
                    onClick={() =>
                      runner.run(() =>
                        setTruth(studyId, c.id, { metastasis_present: true }),
                      )
                    }
                  >
                    {tr("admin.truthYes")}
                  </button>
                  <button
                    type="button"
                    className="btn btn-ghost"
                    onClick={() =>
                      runner.run(() =>
                        setTruth(studyId, c.id, { metastasis_present: false }),
                      )
                    }
                  >
                    {tr("admin.truthNo")}
                  </button>
                  <button
                    type="button"
                    className="btn btn-ghost"
                    onClick={() => runner.run(() => truthFromSeg(studyId, c.id))}
                  >
                    {tr("admin.fromSeg")}
                  </button>
                  <button
                    type="button"
                    className="btn btn-ghost"
                    onClick={() => runner.run(() => removeCase(studyId, c.id))}
                  >
                    ×
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

function ReadersSection({
  studyId,
  draft,
  version,
  runner,
}: {
  studyId: string;
  draft: boolean;
  version: number;
  runner: Runner;
}) {
  const { tr } = useRsI18n();
  const [readers] = useAsync(
    (signal) => listReaders(studyId, signal),
    [studyId, version],
  );
  const [candidates] = useAsync((signal) => candidateReaders(signal), []);
  const [username, setUsername] = useState("");
  return (
    <Section title={tr("admin.readers")} testid="readers-section">
      {draft && (
        <div className="rs-form">
          <label className="field">
            <span>{tr("admin.addReader")}</span>
            <input
              name="reader"
              list="candidate-readers"
              value={username}
              onChange={(e) => setUsername(e.target.value)}
            />
            <datalist id="candidate-readers">
              {(candidates.data ?? []).map((u) => (
                <option key={u.id} value={u.username}>
                  {u.display_name}
                </option>
              ))}
            </datalist>
          </label>
          <button
            type="button"
            className="btn"
            data-testid="add-reader"
            onClick={() =>
              runner.run(
                () => addReader(studyId, username.trim()),
                () => setUsername(""),
              )
            }
          >
            {tr("admin.add")}
          </button>
        </div>
      )}
      <ul>
        {(readers.data ?? []).map((r) => (
          <li key={r.user.id} data-testid="reader-row">
            {r.user.display_name || r.user.username} ({r.user.username})
            {r.first_arm
              ? ` — ${tr(r.first_arm === "aided" ? "arm.aided" : "arm.unaided")}`
              : ""}
            {draft && (
              <button
                type="button"
                className="btn btn-ghost"
                onClick={() => runner.run(() => removeReader(studyId, r.user.id))}
              >
                ×
              </button>
            )}
          </li>
        ))}
      </ul>
    </Section>
  );
}

function ScheduleSection({ studyId, version }: { studyId: string; version: number }) {
  const { tr } = useRsI18n();
  const [schedule] = useAsync(
    (signal) => getSchedule(studyId, signal),
    [studyId, version],
  );
  const data = schedule.data;
  return (
    <Section title={tr("admin.schedule")} testid="schedule-section">
      {data && (
        <>
          <p className="muted" data-frozen={String(data.frozen)}>
            {data.frozen ? tr("admin.scheduleFrozen") : tr("admin.schedulePreview")} —{" "}
            {tr("admin.seed")} {data.seed}
          </p>
          <table className="worklist-table">
            <tbody>
              {data.readers.flatMap((r) =>
                r.sessions.map((s) => (
                  <tr key={`${r.user.id}-${s.number}`} data-testid="schedule-row">
                    <td>{r.user.username}</td>
                    <td>{tr("admin.session", { number: s.number })}</td>
                    <td data-arm={s.arm}>
                      {tr(s.arm === "aided" ? "arm.aided" : "arm.unaided")}
                    </td>
                    <td className="muted">
                      {s.case_order.map((c) => c.position).length}:{" "}
                      {s.case_order.map((c) => c.case_id.slice(0, 4)).join(" → ")}
                    </td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </>
      )}
    </Section>
  );
}

function AiSection({
  studyId,
  draft,
  version,
  runner,
}: {
  studyId: string;
  draft: boolean;
  version: number;
  runner: Runner;
}) {
  const { tr } = useRsI18n();
  const [tick, setTick] = useState(0);
  const [progress] = useAsync(
    (signal) => getAiProgress(studyId, signal),
    [studyId, version, tick],
  );
  const p = progress.data;
  const active = p !== null && p.queued + p.running > 0;
  useEffect(() => {
    if (!active) return;
    const handle = setTimeout(() => setTick((n) => n + 1), POLL_MS);
    return () => clearTimeout(handle);
  }, [active, p]);
  return (
    <Section title={tr("admin.ai")} testid="ai-section">
      {p && (
        <p
          data-testid="ai-progress"
          data-succeeded={p.succeeded}
          data-frozen={p.frozen}
          data-total={p.total}
        >
          {tr("admin.aiProgress", {
            total: p.total,
            succeeded: p.succeeded,
            running: p.running,
            queued: p.queued,
            failed: p.failed,
            frozen: p.frozen,
          })}
        </p>
      )}
      {p && p.total > 0 && (
        <progress max={p.total} value={p.succeeded + p.failed + p.cancelled} />
      )}
      {draft && (
        <div className="rs-actions">
          <button
            type="button"
            className="btn"
            data-testid="precompute-ai"
            disabled={runner.busy || active}
            onClick={() => runner.run(() => precomputeAi(studyId))}
          >
            {tr("admin.precompute")}
          </button>
          <button
            type="button"
            className="btn"
            data-testid="freeze-ai"
            disabled={runner.busy || active}
            onClick={() => runner.run(() => freezeAi(studyId))}
          >
            {tr("admin.freeze")}
          </button>
        </div>
      )}
    </Section>
  );
}

function ProgressSection({
  studyId,
  version,
  runner,
}: {
  studyId: string;
  version: number;
  runner: Runner;
}) {
  const { tr } = useRsI18n();
  const [progress] = useAsync(
    (signal) => getProgress(studyId, signal),
    [studyId, version],
  );
  return (
    <Section title={tr("admin.progress")} testid="progress-section">
      <table className="worklist-table">
        <thead>
          <tr>
            <th>{tr("admin.reader")}</th>
            <th>{tr("admin.sessionState")}</th>
            <th>{tr("admin.arm")}</th>
            <th>{tr("admin.done")}</th>
            <th>{tr("admin.time")}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(progress.data?.readers ?? []).flatMap((r) =>
            r.sessions.map((s) => (
              <tr
                key={s.id}
                data-testid="progress-row"
                data-reader={r.user.username}
                data-session={s.number}
                data-done={s.cases_done}
                data-total={s.cases_total}
              >
                <td>{r.user.display_name || r.user.username}</td>
                <td>
                  {tr("admin.session", { number: s.number })} ·{" "}
                  {tr(`session.${s.state}` as RsKey)}
                </td>
                <td>{tr(s.arm === "aided" ? "arm.aided" : "arm.unaided")}</td>
                <td>
                  {s.cases_done} / {s.cases_total}
                </td>
                <td>
                  {seconds(s.active_seconds)} / {seconds(s.open_seconds)}
                </td>
                <td>
                  {(s.state === "washout" || s.state === "waiting") && (
                    <button
                      type="button"
                      className="btn btn-ghost"
                      onClick={() => {
                        const reason =
                          s.state === "washout"
                            ? (window.prompt(tr("admin.overrideReason")) ?? "")
                            : undefined;
                        if (reason === "") return;
                        runner.run(() => startSession(studyId, s.id, reason));
                      }}
                    >
                      {tr("admin.startSession")}
                    </button>
                  )}
                </td>
              </tr>
            )),
          )}
        </tbody>
      </table>
    </Section>
  );
}

function ReadingsSection({
  studyId,
  version,
  runner,
}: {
  studyId: string;
  version: number;
  runner: Runner;
}) {
  const { tr } = useRsI18n();
  const [readings] = useAsync(
    (signal) => listReadings(studyId, {}, signal),
    [studyId, version],
  );
  const done = (readings.data ?? []).filter((r) => r.state !== "pending");
  return (
    <Section title={tr("admin.readings")} testid="readings-section">
      <table className="worklist-table">
        <tbody>
          {done.map((r) => (
            <tr key={r.id} data-testid="reading-row" data-state={r.state}>
              <td>{r.reader.username}</td>
              <td>
                {tr("admin.session", { number: r.session_number })} #{r.position}
              </td>
              <td>{tr(r.arm === "aided" ? "arm.aided" : "arm.unaided")}</td>
              <td>{r.state}</td>
              <td>
                {r.answer?.metastasis_present === null || r.answer === null
                  ? "—"
                  : `${r.answer.metastasis_present ? "+" : "−"} ${r.answer.confidence ?? ""}`}
              </td>
              <td>
                {seconds(r.times.active_seconds)} / {seconds(r.times.open_seconds)}
                {r.times.flagged ? " ⚑" : ""}
              </td>
              <td>
                {r.state === "submitted" && (
                  <button
                    type="button"
                    className="btn btn-ghost"
                    onClick={() => {
                      const reason = window.prompt(tr("admin.reopenReason"));
                      if (reason) runner.run(() => reopenReading(studyId, r.id, reason));
                    }}
                  >
                    {tr("admin.reopen")}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

function FlagsSection({ studyId, version }: { studyId: string; version: number }) {
  const { tr } = useRsI18n();
  const [flags] = useAsync((signal) => getFlags(studyId, signal), [studyId, version]);
  const data = flags.data;
  const empty =
    data !== null && data.case_views.length === 0 && data.rejected_events.length === 0;
  return (
    <Section title={tr("admin.flags")} testid="flags-section">
      {empty && <p className="muted">{tr("admin.noFlags")}</p>}
      {data && data.case_views.length > 0 && (
        <ul>
          {data.case_views.map((v) => (
            <li key={v.view_id} data-testid="flagged-view">
              {v.reader.username} · {v.opened_at ?? ""} · {seconds(v.total_seconds)} ·{" "}
              {v.reasons.join(", ")}
            </li>
          ))}
        </ul>
      )}
      {data && data.rejected_events.length > 0 && (
        <>
          <h3>{tr("admin.rejected")}</h3>
          <ul>
            {data.rejected_events.map((e) => (
              <li key={e.event_id} data-testid="rejected-event">
                {e.reader.username} · {e.type} · {e.code}: {e.reason}
              </li>
            ))}
          </ul>
        </>
      )}
    </Section>
  );
}
