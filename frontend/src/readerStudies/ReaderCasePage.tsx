import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  openReading,
  saveAnswer,
  submitReading,
  type Answer,
  type AnswerLesion,
  type LesionLabel,
  type Location,
  type Reading,
} from "../api/readerStudies";
import { ApiError } from "../api/ApiError";
import { getStudy } from "../api/studies";
import { CenteredMessage } from "../components/CenteredMessage";
import { useI18n } from "../i18n/useI18n";
import { useAsync } from "../lib/hooks/useAsync";
import { useReadingTimer } from "../readingTimer/useReadingTimer";
import { navigate } from "../router/history";
import { planarLabelmap } from "../viewer/overlay/planarLabelmap";
import { DEFAULT_OVERLAY_STYLE, type OverlayStyle } from "../viewer/overlay/overlayStyle";
import { PlanarViewer } from "../viewer/planar/PlanarViewer";
import { prefetchPlanarImages } from "../viewer/planar/prefetchPlanarImages";
import { SpectCtViewer } from "../viewer/spectct/SpectCtViewer";
import { draftFrom, missingFields, withLesion } from "./answerDraft";
import { AnswerPanel } from "./AnswerPanel";
import { imagePointAt } from "./imagePoint";
import { BOX_MIN_DRAG_PX, boxFromCorners } from "./markGeometry";
import { MarkOverlay } from "./MarkOverlay";
import { rsErrorText, useRsI18n } from "./messages";
import { OutboxNotice } from "./OutboxNotice";
import { MY_READING_PATH, readingPath } from "./paths";
import { useFrozenAi } from "./useFrozenAi";
import { useStudyRunState } from "./useStudyRunState";

const AUTOSAVE_MS = 800;

/** A refusal because the study admin paused the study (the services put it in `extra.code`). */
function isStudyPaused(error: unknown): boolean {
  return (
    error instanceof ApiError &&
    (error.extra.code === "study_paused" || error.code === "study_paused")
  );
}
/** In the unaided arm nothing is drawn even if a label map ever reached the viewer. */
const NO_OVERLAY: OverlayStyle = { ...DEFAULT_OVERLAY_STYLE, visible: false };

/**
 * One reader-study reading: opens it on the server (only the session's next
 * case may be opened), then shows the case in the arm's mode. The viewer is
 * the clinical one, composed here without the AI panel, AI chip, Run-AI
 * button, report or series list; the aided arm adds the frozen result only.
 */
export function ReaderCasePage({ readingId }: { readingId: string }) {
  const { t } = useI18n();
  const { tr } = useRsI18n();
  const [state, retry] = useAsync(() => openReading(readingId), [readingId]);
  if (state.status === "error") {
    return (
      <div className="page">
        <div className="error-box" role="alert" data-testid="reading-error">
          <span>{rsErrorText(state.error, tr)}</span>
          <button type="button" className="btn" onClick={retry}>
            {t("common.retry")}
          </button>
          <button type="button" className="btn" onClick={() => navigate(MY_READING_PATH)}>
            {tr("my.title")}
          </button>
        </div>
      </div>
    );
  }
  if (state.status === "loading" || state.data === null) {
    return <CenteredMessage>{t("common.loading")}</CenteredMessage>;
  }
  return <ReadingView key={state.data.id} reading={state.data} />;
}

function ReadingView({ reading }: { reading: Reading }) {
  const { t } = useI18n();
  const { tr } = useRsI18n();
  const frozenJobId = reading.arm === "aided" ? (reading.ai?.job_id ?? null) : null;
  const aided = frozenJobId !== null;
  const [locked, setLocked] = useState(reading.state === "submitted");
  const timer = useReadingTimer(reading.study_id, {
    readingId: reading.id,
    aiShown: aided,
  });
  const [studyState, retryStudy] = useAsync(
    (signal) => getStudy(reading.study_id, signal).then(prefetchPlanarImages),
    [reading.study_id],
  );
  const frozen = useFrozenAi(reading.study_id, frozenJobId);
  const study = studyState.status === "success" ? studyState.data : null;

  const [answer, setAnswer] = useState<Answer>(() => draftFrom(reading.answer));
  const [dirty, setDirty] = useState(false);
  const [saveState, setSaveState] = useState<"idle" | "saving" | "saved" | "error">(
    "idle",
  );
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [marking, setMarking] = useState<LesionLabel | null>(null);
  const [runState, setRunState] = useStudyRunState(
    reading.id,
    reading.reader_study_state ?? "open",
  );
  const paused = runState === "paused";
  const closed = runState === "closed";

  const change = useCallback((next: Answer) => {
    setAnswer(next);
    setDirty(true);
  }, []);

  // Autosave: a quiet moment after the last change, the draft goes to the server.
  // While the study is paused the draft stays on screen and goes out when it resumes.
  useEffect(() => {
    if (!dirty || locked || paused || closed) return;
    const handle = setTimeout(() => {
      setSaveState("saving");
      setDirty(false);
      saveAnswer(reading.id, answer)
        .then(() => setSaveState("saved"))
        .catch((e: unknown) => {
          if (isStudyPaused(e)) {
            setRunState("paused");
            setSaveState("idle");
            setDirty(true);
            return;
          }
          setSaveState("error");
          setError(rsErrorText(e, tr));
        });
    }, AUTOSAVE_MS);
    return () => clearTimeout(handle);
  }, [answer, dirty, locked, paused, closed, reading.id, setRunState]);

  const submit = () => {
    if (missingFields(answer).length > 0) {
      setError(tr("answer.incomplete"));
      return;
    }
    const pressedAt = new Date();
    setSubmitting(true);
    setError(null);
    submitReading(reading.id, answer)
      .then((result) => {
        timer.current?.submit(pressedAt);
        setLocked(true);
        setDirty(false);
        navigate(
          result.next_reading_id ? readingPath(result.next_reading_id) : MY_READING_PATH,
        );
      })
      .catch((e: unknown) => {
        if (isStudyPaused(e)) setRunState("paused");
        else setError(rsErrorText(e, tr));
      })
      .finally(() => setSubmitting(false));
  };

  // Marking a lesion: the next press on an image is taken before the viewer's tools see it
  // (no window/level drag for it). A click places a point, a drag draws a box; both are
  // stored in that image's coordinates (imagePointAt), never in screen pixels.
  const viewerRef = useRef<HTMLDivElement | null>(null);
  const [preview, setPreview] = useState<AnswerLesion | null>(null);
  useEffect(() => {
    const host = viewerRef.current;
    if (!host || marking === null) return;
    let drag: {
      element: HTMLElement;
      view: string;
      x0: number;
      y0: number;
      start: Location;
    } | null = null;
    const locate = (
      element: HTMLElement,
      view: string,
      x: number,
      y: number,
      clampToImage: boolean,
    ): Location | null => {
      try {
        return imagePointAt(element, x, y, view, { clampToImage });
      } catch (error) {
        console.warn("Cannot place the mark on the image", error);
        return null;
      }
    };
    const markAt = (x: number, y: number): AnswerLesion | null => {
      if (!drag) return null;
      let shape: AnswerLesion["shape"] = "point";
      let location = drag.start;
      if (Math.hypot(x - drag.x0, y - drag.y0) >= BOX_MIN_DRAG_PX) {
        const end = locate(drag.element, drag.view, x, y, true);
        const box = end ? boxFromCorners(drag.start, end) : null;
        if (box) {
          shape = "box";
          location = box;
        }
      }
      return { label: marking, shape, location, ai_lesion_id: null };
    };
    const onPointerMove = (event: PointerEvent) => {
      if (!drag) return;
      event.preventDefault();
      setPreview(markAt(event.clientX, event.clientY));
    };
    const finish = (event: PointerEvent) => {
      if (!drag) return;
      event.stopPropagation();
      const mark = markAt(event.clientX, event.clientY);
      drag = null;
      setPreview(null);
      window.removeEventListener("pointermove", onPointerMove, { capture: true });
      window.removeEventListener("pointerup", finish, { capture: true });
      if (mark) {
        change(withLesion(answer, mark));
        setMarking(null);
      }
    };
    const onPointerDown = (event: PointerEvent) => {
      // The other buttons keep zooming and panning while a mark is pending.
      if (event.button !== 0) return;
      const element = (event.target as HTMLElement).closest<HTMLElement>(
        // The viewer's viewport element (Cornerstone nests its own .viewport-element inside).
        "[data-testid^='viewport-']",
      );
      if (!element) return;
      const view = (element.dataset.testid ?? "").replace(/^viewport-/, "");
      event.stopPropagation();
      event.preventDefault();
      const start = locate(element, view, event.clientX, event.clientY, false);
      if (!start) {
        console.warn("No image under the mark", view);
        return;
      }
      drag = { element, view, x0: event.clientX, y0: event.clientY, start };
      setPreview(markAt(event.clientX, event.clientY));
      window.addEventListener("pointermove", onPointerMove, { capture: true });
      window.addEventListener("pointerup", finish, { capture: true });
    };
    // Escape gives up the pending mark (and a box being dragged).
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key !== "Escape") return;
      drag = null;
      setPreview(null);
      setMarking(null);
    };
    host.addEventListener("pointerdown", onPointerDown, { capture: true });
    host.addEventListener("mousedown", stopInMarking, { capture: true });
    window.addEventListener("keydown", onKeyDown);
    return () => {
      window.removeEventListener("keydown", onKeyDown);
      host.removeEventListener("pointerdown", onPointerDown, { capture: true });
      host.removeEventListener("mousedown", stopInMarking, { capture: true });
      window.removeEventListener("pointermove", onPointerMove, { capture: true });
      window.removeEventListener("pointerup", finish, { capture: true });
      setPreview(null);
    };
  }, [marking, answer, change]);

  // The marks drawn on the images: the answer's lesions (saved ones again after a reload),
  // in image coordinates, re-projected on every render of every viewport.
  const overlayRef = useRef<MarkOverlay | null>(null);
  useEffect(() => {
    const host = viewerRef.current;
    if (!host) return;
    const overlay = new MarkOverlay(host);
    overlayRef.current = overlay;
    return () => {
      overlay.destroy();
      overlayRef.current = null;
    };
  }, []);
  useEffect(() => {
    overlayRef.current?.setMarks(answer.lesions, preview);
  }, [answer.lesions, preview]);

  const result = frozen.result;
  const planarOverlay = useMemo(
    () =>
      aided && result && frozen.labelmap
        ? planarLabelmap(result.labelmap.frames, frozen.labelmap)
        : null,
    [aided, result, frozen.labelmap],
  );

  return (
    <section
      className="case-page reading-page"
      data-testid="reading"
      data-reading-id={reading.id}
      data-arm={reading.arm}
      data-study-id={reading.study_id}
    >
      <header className="case-header">
        <button type="button" className="btn" onClick={() => navigate(MY_READING_PATH)}>
          {tr("my.title")}
        </button>
        <span className="case-title" data-testid="reading-position">
          {tr("reading.case", { position: reading.position, total: reading.cases_total })}
        </span>
        <span className="muted">{tr(aided ? "arm.aided" : "arm.unaided")}</span>
      </header>
      <OutboxNotice />
      {(paused || closed) && (
        <p
          className="notice"
          role="status"
          data-testid="study-paused"
          data-state={runState}
        >
          {tr(paused ? "reading.studyPaused" : "reading.studyClosed")}
        </p>
      )}
      <div className="case-body">
        <div className="case-viewer" ref={viewerRef} data-marking={marking ?? ""}>
          {studyState.status === "error" && (
            <div className="error-box" role="alert">
              <span>{rsErrorText(studyState.error, tr)}</span>
              <button type="button" className="btn" onClick={retryStudy}>
                {t("common.retry")}
              </button>
            </div>
          )}
          {!study && studyState.status === "loading" && (
            <CenteredMessage>{t("common.loading")}</CenteredMessage>
          )}
          {study && study.kind === "spectct" && (
            <SpectCtViewer
              study={study}
              action={null}
              labelmap={aided ? frozen.labelmap : null}
              labelmapFrames={aided ? result?.labelmap.frames : undefined}
              overlayStyle={
                aided ? { ...DEFAULT_OVERLAY_STYLE, outline: true } : NO_OVERLAY
              }
            />
          )}
          {study && study.kind !== "spectct" && (
            <PlanarViewer
              study={study}
              action={null}
              labelmap={planarOverlay}
              overlayStyle={aided ? DEFAULT_OVERLAY_STYLE : NO_OVERLAY}
            />
          )}
        </div>
        <aside className="side-panel">
          {aided && (
            <div className="side-section" data-testid="frozen-ai">
              <div className="side-head">{tr("reading.aiFrozen")}</div>
              {reading.ai?.model_version && (
                <p className="muted">
                  {tr("reading.model", {
                    name: reading.ai.model_version.name,
                    version: reading.ai.model_version.version,
                  })}
                </p>
              )}
              {frozen.error !== null && (
                <p className="error-box" role="alert">
                  {tr("reading.aiUnavailable")}
                </p>
              )}
            </div>
          )}
          <AnswerPanel
            answer={answer}
            onChange={change}
            locked={locked}
            kind={study?.kind ?? "planar"}
            aiLesions={aided ? (result?.lesions ?? null) : null}
            marking={marking}
            onMark={setMarking}
            saveState={saveState}
            error={error}
            submitting={submitting}
            submitBlocked={paused || closed}
            onSubmit={submit}
          />
        </aside>
      </div>
    </section>
  );
}

function stopInMarking(event: MouseEvent): void {
  if (
    event.button === 0 &&
    (event.target as HTMLElement).closest("[data-testid^='viewport-']")
  ) {
    event.stopPropagation();
    event.preventDefault();
  }
}
