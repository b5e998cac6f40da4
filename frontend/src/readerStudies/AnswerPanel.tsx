import type { Lesion } from "../api/inference";
import type { Answer, LesionLabel } from "../api/readerStudies";
import { confirmAiLesion, withoutLesion } from "./answerDraft";
import { locationText, MARK_COLOURS, otherLabel, withLabel } from "./markGeometry";
import { useRsI18n } from "./messages";

interface Props {
  answer: Answer;
  onChange: (answer: Answer) => void;
  locked: boolean;
  kind: string;
  /** The frozen AI result's lesions (aided arm only). */
  aiLesions: Lesion[] | null;
  marking: LesionLabel | null;
  onMark: (label: LesionLabel | null) => void;
  saveState: "idle" | "saving" | "saved" | "error";
  error: string | null;
  submitting: boolean;
  /** Submitting is not possible now (the study is paused or closed); the page says why. */
  submitBlocked?: boolean;
  onSubmit: () => void;
}

/** The reader's answer: metastasis yes/no, confidence, lesions (marked or confirmed), comment. */
export function AnswerPanel(props: Props) {
  const { tr } = useRsI18n();
  const { answer, onChange, locked, marking } = props;
  const set = (patch: Partial<Answer>) => onChange({ ...answer, ...patch });
  return (
    <div className="answer-panel" data-testid="answer-panel">
      <h2>{tr("answer.title")}</h2>
      <fieldset disabled={locked} className="answer-fields">
        <div className="field">
          <span>{tr("answer.metastasis")}</span>
          <div className="answer-choice">
            <label>
              <input
                type="radio"
                name="metastasis"
                data-testid="metastasis-yes"
                checked={answer.metastasis_present === true}
                onChange={() => set({ metastasis_present: true })}
              />
              {tr("answer.yes")}
            </label>
            <label>
              <input
                type="radio"
                name="metastasis"
                data-testid="metastasis-no"
                checked={answer.metastasis_present === false}
                onChange={() => set({ metastasis_present: false })}
              />
              {tr("answer.no")}
            </label>
          </div>
        </div>
        <label className="field">
          <span>
            {tr("answer.confidence", {
              value: answer.confidence === null ? "—" : answer.confidence,
            })}
          </span>
          <input
            type="range"
            min={0}
            max={100}
            step={1}
            data-testid="confidence"
            value={answer.confidence ?? 50}
            onChange={(e) => set({ confidence: Number(e.target.value) })}
            onPointerUp={(e) =>
              answer.confidence === null &&
              set({ confidence: Number((e.target as HTMLInputElement).value) })
            }
          />
        </label>
        <div className="field">
          <span>{tr("answer.lesions")}</span>
          <div className="answer-mark">
            {marking === null ? (
              <>
                <button
                  type="button"
                  className="btn"
                  data-testid="mark-benign"
                  onClick={() => props.onMark("benign")}
                >
                  {tr("answer.markBenign")}
                </button>
                <button
                  type="button"
                  className="btn"
                  data-testid="mark-metastatic"
                  onClick={() => props.onMark("metastatic")}
                >
                  {tr("answer.markMetastatic")}
                </button>
              </>
            ) : (
              <>
                <span className="notice" data-testid="marking">
                  {tr("answer.marking")}
                </span>
                <button type="button" className="btn" onClick={() => props.onMark(null)}>
                  {tr("answer.cancelMark")}
                </button>
              </>
            )}
          </div>
          {answer.lesions.length === 0 ? (
            <p className="muted">{tr("answer.noLesions")}</p>
          ) : (
            <ol className="answer-lesions" data-testid="answer-lesions">
              {answer.lesions.map((lesion, index) => (
                <li
                  key={index}
                  data-label={lesion.label}
                  data-shape={lesion.shape}
                  data-testid="answer-lesion"
                >
                  <span
                    className="mark-swatch"
                    style={{ color: MARK_COLOURS[lesion.label] }}
                    aria-hidden="true"
                  >
                    {lesion.shape === "box" ? "▭" : "◯"}
                  </span>{" "}
                  {index + 1}.{" "}
                  {tr(lesion.label === "benign" ? "label.benign" : "label.metastatic")}{" "}
                  <span className="muted" data-testid="answer-lesion-location">
                    {tr(lesion.shape === "box" ? "answer.box" : "answer.point")}{" "}
                    {locationText(lesion)}
                    {lesion.ai_lesion_id !== null ? ` AI #${lesion.ai_lesion_id}` : ""}
                  </span>{" "}
                  <button
                    type="button"
                    className="btn btn-ghost"
                    data-testid="reclassify-lesion"
                    onClick={() =>
                      onChange({
                        ...answer,
                        lesions: withLabel(
                          answer.lesions,
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
                    data-testid="remove-lesion"
                    onClick={() => onChange(withoutLesion(answer, index))}
                  >
                    {tr("answer.remove")}
                  </button>
                </li>
              ))}
            </ol>
          )}
        </div>
        {props.aiLesions && props.aiLesions.length > 0 && (
          <ul className="lesion-list" data-testid="frozen-ai-lesions">
            {props.aiLesions.map((lesion) => (
              <li key={lesion.id} className="lesion-item">
                <span>
                  AI #{lesion.id}{" "}
                  {lesion.class_name === "metastatic"
                    ? tr("label.metastatic")
                    : tr("label.benign")}{" "}
                  {lesion.region ?? ""}
                </span>
                {(["benign", "metastatic"] as const).map((label) => (
                  <button
                    key={label}
                    type="button"
                    className="btn btn-ghost"
                    data-testid={`confirm-ai-${lesion.id}-${label}`}
                    onClick={() =>
                      onChange(confirmAiLesion(answer, lesion, props.kind, label))
                    }
                  >
                    {tr("answer.confirmAi")}:{" "}
                    {tr(label === "benign" ? "label.benign" : "label.metastatic")}
                  </button>
                ))}
              </li>
            ))}
          </ul>
        )}
        <label className="field">
          <span>{tr("answer.comment")}</span>
          <textarea
            name="comment"
            data-testid="comment"
            rows={3}
            value={answer.comment}
            onChange={(e) => set({ comment: e.target.value })}
          />
        </label>
      </fieldset>
      <div className="answer-actions">
        <span className="muted" data-testid="save-state" data-state={props.saveState}>
          {props.saveState === "saving"
            ? tr("answer.saving")
            : props.saveState === "saved"
              ? tr("answer.saved")
              : ""}
        </span>
        {props.error && (
          <div className="error-box" role="alert" data-testid="answer-error">
            {props.error}
          </div>
        )}
        {locked ? (
          <p className="notice" data-testid="answer-locked">
            {tr("answer.locked")}
          </p>
        ) : (
          <button
            type="button"
            className="btn btn-primary"
            data-testid="submit-answer"
            disabled={props.submitting || props.submitBlocked === true}
            onClick={props.onSubmit}
          >
            {props.submitting ? tr("answer.submitting") : tr("answer.submit")}
          </button>
        )}
      </div>
    </div>
  );
}
