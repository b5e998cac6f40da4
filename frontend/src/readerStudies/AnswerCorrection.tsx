import { useState } from "react";
import { ApiError } from "../api/ApiError";
import {
  correctAnswer,
  listReadings,
  type AdminReading,
  type Answer,
} from "../api/readerStudies";
import { useAsync } from "../lib/hooks/useAsync";
import { draftFrom, withoutLesion } from "./answerDraft";
import { locationText, MARK_COLOURS, otherLabel, withLabel } from "./markGeometry";
import { rsErrorText, useRsI18n, type RsTranslate } from "./messages";

/**
 * Study admin: change a reader's submitted answer. The reader cannot (a
 * submitted case is locked); the admin can, only with a reason, and the
 * server keeps the previous answer with the reason, who and when, listed here
 * as the reading's history.
 */
export function AnswerCorrectionSection({
  studyId,
  version,
  onChanged,
}: {
  studyId: string;
  version: number;
  onChanged: () => void;
}) {
  const { tr } = useRsI18n();
  const [readings] = useAsync(
    (signal) => listReadings(studyId, {}, signal),
    [studyId, version],
  );
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const rows = (readings.data ?? []).filter(
    (r) => r.state === "submitted" || r.history.length > 0,
  );
  const selected = rows.find((r) => r.id === selectedId) ?? null;
  return (
    <section className="rs-card" data-testid="correction-section">
      <h2>{tr("correct.title")}</h2>
      {readings.status === "error" && (
        <div className="error-box" role="alert">
          {rsErrorText(readings.error, tr)}
        </div>
      )}
      {readings.data !== null && rows.length === 0 && (
        <p className="muted">{tr("correct.none")}</p>
      )}
      {rows.length > 0 && (
        <table className="worklist-table">
          <tbody>
            {rows.map((r) => (
              <tr
                key={r.id}
                data-testid="correction-row"
                data-reading-id={r.id}
                data-state={r.state}
                aria-selected={r.id === selectedId}
              >
                <td>
                  {tr("correct.reading", {
                    reader: r.reader.username,
                    session: r.session_number,
                    position: r.position,
                  })}
                </td>
                <td>{answerSummary(r.answer, tr)}</td>
                <td>{r.history.length > 0 ? `↺ ${r.history.length}` : ""}</td>
                <td>
                  <button
                    type="button"
                    className="btn btn-ghost"
                    data-testid="correct-answer"
                    onClick={() => {
                      setNotice(null);
                      setSelectedId(r.id);
                    }}
                  >
                    {tr("correct.edit")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {notice && (
        <p className="notice" role="status" data-testid="correct-saved">
          {notice}
        </p>
      )}
      {selected && (
        <CorrectionForm
          // A fresh form for the corrected answer once the list reloads.
          key={`${selected.id}-${selected.history.length}`}
          studyId={studyId}
          reading={selected}
          onSaved={() => {
            setNotice(tr("correct.saved"));
            onChanged();
          }}
          onClose={() => setSelectedId(null)}
        />
      )}
    </section>
  );
}

function answerSummary(answer: Answer | null, tr: RsTranslate): string {
  if (!answer) return "—";
  return tr("correct.summary", {
    metastasis:
      answer.metastasis_present === null
        ? "—"
        : tr(answer.metastasis_present ? "answer.yes" : "answer.no"),
    confidence: answer.confidence ?? "—",
    lesions: answer.lesions?.length ?? 0,
  });
}

function sameAnswer(a: Answer, b: Answer): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The admin's error: a missing reason named as such, server refusals in the user's language. */
function correctionErrorText(error: unknown, tr: RsTranslate): string {
  if (error instanceof ApiError) {
    const fields = error.extra.fields;
    if (typeof fields === "object" && fields !== null && "reason" in fields) {
      return tr("correct.reasonRequired");
    }
  }
  return rsErrorText(error, tr);
}

function CorrectionForm({
  studyId,
  reading,
  onSaved,
  onClose,
}: {
  studyId: string;
  reading: AdminReading;
  onSaved: (reading: AdminReading) => void;
  onClose: () => void;
}) {
  const { tr, lang } = useRsI18n();
  const original = draftFrom(reading.answer);
  const [draft, setDraft] = useState<Answer>(original);
  const [confidence, setConfidence] = useState(
    original.confidence === null ? "" : String(original.confidence),
  );
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const editable = reading.state === "submitted";
  const when = (iso: string | null) =>
    iso ? new Date(iso).toLocaleString(lang === "zh" ? "zh-CN" : "en") : "";

  const save = () => {
    setError(null);
    if (!reason.trim()) {
      setError(tr("correct.reasonRequired"));
      return;
    }
    const value = confidence.trim() === "" ? Number.NaN : Number(confidence);
    if (!Number.isInteger(value) || value < 0 || value > 100) {
      setError(tr("correct.confidenceRange"));
      return;
    }
    const next: Answer = { ...draft, confidence: value };
    if (sameAnswer(next, original)) {
      setError(tr("correct.unchanged"));
      return;
    }
    setBusy(true);
    correctAnswer(studyId, reading.id, next, reason.trim())
      .then((updated) => onSaved(updated))
      .catch((e: unknown) => setError(correctionErrorText(e, tr)))
      .finally(() => setBusy(false));
  };

  return (
    <div
      className="correction-form"
      data-testid="correction-form"
      data-reading-id={reading.id}
    >
      <h3>
        {tr("correct.reading", {
          reader: reading.reader.username,
          session: reading.session_number,
          position: reading.position,
        })}
      </h3>
      <fieldset disabled={!editable || busy} className="answer-fields">
        <legend>{tr("correct.current")}</legend>
        <div className="field">
          <span>{tr("answer.metastasis")}</span>
          <div className="answer-choice">
            {([true, false] as const).map((value) => (
              <label key={String(value)}>
                <input
                  type="radio"
                  name="correct-metastasis"
                  data-testid={value ? "correct-metastasis-yes" : "correct-metastasis-no"}
                  checked={draft.metastasis_present === value}
                  onChange={() => setDraft({ ...draft, metastasis_present: value })}
                />
                {tr(value ? "answer.yes" : "answer.no")}
              </label>
            ))}
          </div>
        </div>
        <label className="field">
          <span>{tr("correct.confidence")}</span>
          <input
            type="number"
            min={0}
            max={100}
            step={1}
            name="correct-confidence"
            data-testid="correct-confidence"
            value={confidence}
            onChange={(e) => setConfidence(e.target.value)}
          />
        </label>
        <div className="field">
          <span>{tr("answer.lesions")}</span>
          {draft.lesions.length === 0 ? (
            <p className="muted">{tr("answer.noLesions")}</p>
          ) : (
            <ol className="answer-lesions">
              {draft.lesions.map((lesion, index) => (
                <li key={index} data-testid="correct-lesion" data-label={lesion.label}>
                  <span style={{ color: MARK_COLOURS[lesion.label] }} aria-hidden="true">
                    {lesion.shape === "box" ? "▭" : "◯"}
                  </span>{" "}
                  {tr(lesion.label === "benign" ? "label.benign" : "label.metastatic")}{" "}
                  <span className="muted">
                    {tr(lesion.shape === "box" ? "answer.box" : "answer.point")}{" "}
                    {locationText(lesion)}
                  </span>{" "}
                  <button
                    type="button"
                    className="btn btn-ghost"
                    data-testid="correct-reclassify"
                    onClick={() =>
                      setDraft({
                        ...draft,
                        lesions: withLabel(
                          draft.lesions,
                          index,
                          otherLabel(lesion.label),
                        ),
                      })
                    }
                  >
                    {tr(
                      lesion.label === "benign"
                        ? "answer.makeMetastatic"
                        : "answer.makeBenign",
                    )}
                  </button>
                  <button
                    type="button"
                    className="btn btn-ghost"
                    onClick={() => setDraft(withoutLesion(draft, index))}
                  >
                    {tr("answer.remove")}
                  </button>
                </li>
              ))}
            </ol>
          )}
        </div>
        <label className="field">
          <span>{tr("answer.comment")}</span>
          <textarea
            name="correct-comment"
            rows={2}
            value={draft.comment}
            onChange={(e) => setDraft({ ...draft, comment: e.target.value })}
          />
        </label>
        <label className="field">
          <span>{tr("correct.reason")}</span>
          <textarea
            name="correct-reason"
            data-testid="correct-reason"
            rows={2}
            required
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          />
        </label>
      </fieldset>
      {error && (
        <div className="error-box" role="alert" data-testid="correct-error">
          {error}
        </div>
      )}
      <div className="answer-actions">
        {editable && (
          <button
            type="button"
            className="btn btn-primary"
            data-testid="correct-save"
            disabled={busy}
            onClick={save}
          >
            {tr("correct.save")}
          </button>
        )}
        <button type="button" className="btn" onClick={onClose}>
          {tr("correct.cancel")}
        </button>
      </div>
      <h4>{tr("correct.history")}</h4>
      {reading.history.length === 0 ? (
        <p className="muted">{tr("correct.noHistory")}</p>
      ) : (
        <ol data-testid="answer-history">
          {reading.history.map((revision, index) => (
            <li key={index} data-testid="answer-revision" data-kind={revision.kind}>
              <strong>
                {tr(
                  revision.kind === "reopen"
                    ? "correct.kind.reopen"
                    : "correct.kind.admin_change",
                )}
              </strong>{" "}
              {tr("correct.by", {
                who: revision.changed_by?.username ?? "—",
                when: when(revision.changed_at),
              })}
              {": "}
              <q data-testid="revision-reason">{revision.reason}</q>
              <div className="muted" data-testid="revision-answer">
                {answerSummary(revision.answer, tr)}
              </div>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
