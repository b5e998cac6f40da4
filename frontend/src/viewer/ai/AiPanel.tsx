import { useState } from "react";

import { ApiError } from "../../api/ApiError";
import type { Lesion, StudySegmentation } from "../../api/inference";
import { ErrorBox } from "../../components/ErrorBox";
import { dictionaries, type MessageKey } from "../../i18n/messages";
import { useI18n } from "../../i18n/useI18n";
import { cssColor, type OverlayStyle } from "../overlay/overlayStyle";
import { AiResultChooser } from "./AiResultChooser";
import {
  heldBackLesions,
  probabilityPercent,
  sortedLesions,
  suppressedCount,
  volumeText,
} from "./lesionDisplay";
import { OverlayControls } from "./OverlayControls";
import { regionName } from "./regionName";
import type { StudyAiState } from "./useStudyAi";

interface Props {
  state: StudyAiState;
  /** The SEG series the overlay is drawn from (the result's, or another tool's). */
  segmentation?: StudySegmentation | null;
  style: OverlayStyle;
  onStyle: (style: OverlayStyle) => void;
  onLesion: (lesion: Lesion) => void;
  /** The held-back list was hidden (the viewer removes its ring). */
  onHeldBackHidden?: () => void;
  canRun: boolean;
}

/** The job's stage in the user's language (the server sends codes such as "predicting"). */
function stageName(
  stage: string | null,
  fallback: MessageKey,
  t: ReturnType<typeof useI18n>["t"],
): string {
  if (stage === null) return t(fallback);
  const key = `ai.stage.${stage}`;
  return key in dictionaries.en ? t(key as MessageKey) : t(fallback);
}

function lesionSize(lesion: Lesion, t: ReturnType<typeof useI18n>["t"]): string {
  if (lesion.area_mm2 !== null)
    return t("ai.lesion.area", { value: Math.round(lesion.area_mm2) });
  if (lesion.volume_ml !== null)
    return t("ai.lesion.volume", { value: volumeText(lesion.volume_ml) });
  return lesion.area_px !== null ? `${lesion.area_px} px` : "";
}

const classKey = (name: string): MessageKey =>
  name === "metastatic" ? "ai.class.metastatic" : "ai.class.benign";

/** One finding of a list: class, probability, size, region; selecting it goes to it. */
function LesionButton({
  lesion,
  testId,
  onLesion,
  reason,
}: {
  lesion: Lesion;
  testId: string;
  onLesion: (lesion: Lesion) => void;
  /** Why it is not listed (a held-back finding): drawn without the overlay's colour. */
  reason?: string;
}) {
  const { t } = useI18n();
  return (
    <button
      type="button"
      className="lesion-item"
      data-testid={testId}
      data-lesion-id={lesion.id}
      onClick={() => onLesion(lesion)}
    >
      <span
        className={reason ? "swatch swatch-held-back" : "swatch"}
        style={reason ? undefined : { background: cssColor(lesion.label) }}
      />
      <span className="lesion-class">{t(classKey(lesion.class_name))}</span>
      <span className="lesion-probability">
        {t("ai.lesion.probability", {
          percent: probabilityPercent(lesion.probability),
        })}
      </span>
      <span className="muted">{lesionSize(lesion, t)}</span>
      <span className="lesion-region" data-testid="lesion-region">
        {regionName(lesion.region_code, lesion.region, t)}
        {lesion.class_source === "report_site" && (
          <span
            className="lesion-source"
            data-testid="lesion-source"
            title={t("ai.lesion.fromReportTitle", {
              class: t(classKey(lesion.class_name)),
            })}
          >
            {t("ai.lesion.fromReport")}
          </span>
        )}
        {reason && (
          <span className="lesion-source" data-testid="held-back-reason">
            {reason}
          </span>
        )}
      </span>
    </button>
  );
}

/** AI status, run / re-run, legend with per-class toggles, opacity, outline and the lesion list. */
export function AiPanel({
  state,
  segmentation = null,
  style,
  onStyle,
  onLesion,
  onHeldBackHidden,
  canRun,
}: Props) {
  const { t } = useI18n();
  const { ai, error, running } = state;
  const job = ai?.latest_job ?? null;
  const result = ai?.result ?? null;
  const blinded =
    error instanceof ApiError && (error.status === 403 || error.status === 404);
  const heldBack = result ? heldBackLesions(result) : [];
  const [showHeldBack, setShowHeldBack] = useState(false);

  return (
    <div
      className="side-section"
      data-testid="ai-panel"
      data-result-job={result?.job_id ?? ""}
    >
      <div className="side-head">
        <h2>{t("ai.title")}</h2>
        {canRun && (
          <button
            type="button"
            className="btn btn-primary"
            data-testid="ai-run"
            disabled={running || blinded}
            onClick={() => state.run(result !== null)}
          >
            {result ? t("ai.rerun") : t("ai.run")}
          </button>
        )}
      </div>
      {blinded && <p className="muted">{t("ai.unavailable")}</p>}
      {error !== null && !blinded && <ErrorBox error={error} />}
      {job && (job.state === "queued" || job.state === "running") && (
        <div className="ai-progress" data-testid="ai-progress">
          <progress max={1} value={job.progress} />
          <span>
            {t("ai.progress", {
              stage: stageName(
                job.stage,
                job.state === "queued" ? "ai.queued" : "ai.running",
                t,
              ),
              percent: Math.round(job.progress * 100),
            })}
          </span>
        </div>
      )}
      {job?.state === "failed" && (
        <p className="form-error" title={job.error ?? undefined} data-testid="ai-failed">
          {t("ai.failedShort")}
        </p>
      )}
      {!result && !blinded && !running && <p className="muted">{t("ai.noResult")}</p>}
      <AiResultChooser state={state} />
      {!result && segmentation && (
        <>
          <p className="muted" data-testid="seg-source">
            {t("ai.segFromArchive", { name: segmentation.description || "SEG" })}
          </p>
          <OverlayControls style={style} onStyle={onStyle} counts={null} />
        </>
      )}
      {result && (
        <>
          {result.model_version && (
            <p className="muted" data-testid="ai-model">
              {t("ai.model", {
                name: [result.model_version.name, result.model_version.version]
                  .filter(Boolean)
                  .join(" "),
              })}
            </p>
          )}
          <OverlayControls
            style={style}
            onStyle={onStyle}
            counts={result.lesion_counts}
          />
          <h3>{t("ai.lesions", { count: result.lesions.length })}</h3>
          {suppressedCount(result) > 0 && (
            <p className="muted" data-testid="ai-suppressed">
              {t("ai.suppressedOutsideReport", { count: suppressedCount(result) })}
            </p>
          )}
          {suppressedCount(result, "suppressed_below_floor") > 0 && (
            <p className="muted" data-testid="ai-below-floor">
              {t("ai.suppressedBelowFloor", {
                count: suppressedCount(result, "suppressed_below_floor"),
              })}
            </p>
          )}
          {result.lesions.length === 0 ? (
            <p className="muted">{t("ai.noLesions")}</p>
          ) : (
            <ul className="lesion-list" data-testid="lesion-list">
              {sortedLesions(result.lesions).map((lesion) => (
                <li key={lesion.id}>
                  <LesionButton
                    lesion={lesion}
                    testId="lesion-item"
                    onLesion={onLesion}
                  />
                </li>
              ))}
            </ul>
          )}
          {heldBack.length > 0 && (
            <>
              <button
                type="button"
                className="btn btn-ghost"
                data-testid="ai-held-back-toggle"
                aria-expanded={showHeldBack}
                onClick={() => {
                  // hiding the list also removes the ring round a held-back finding
                  if (showHeldBack) onHeldBackHidden?.();
                  setShowHeldBack(!showHeldBack);
                }}
              >
                {showHeldBack
                  ? t("ai.heldBack.hide")
                  : t("ai.heldBack.show", { count: heldBack.length })}
              </button>
              {showHeldBack && (
                <>
                  <p className="muted">{t("ai.heldBack.note")}</p>
                  <ul className="lesion-list held-back" data-testid="held-back-list">
                    {heldBack.map((lesion) => (
                      <li key={lesion.id}>
                        <LesionButton
                          lesion={lesion}
                          testId="held-back-item"
                          onLesion={onLesion}
                          reason={t(`ai.heldBack.${lesion.held_back}`)}
                        />
                      </li>
                    ))}
                  </ul>
                </>
              )}
            </>
          )}
        </>
      )}
    </div>
  );
}
