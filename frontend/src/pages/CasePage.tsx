import { useEffect, useMemo, useRef, useState } from "react";
import { getStudy } from "../api/studies";
import { CenteredMessage } from "../components/CenteredMessage";
import { ErrorBox } from "../components/ErrorBox";
import { LeaveConfirm } from "../components/LeaveConfirm";
import { useI18n } from "../i18n/useI18n";
import { useAsync } from "../lib/hooks/useAsync";
import { useLiveStatus } from "../lib/hooks/useLiveStatus";
import type { ReportStatus } from "../api/studies";
import { useReadingTimer } from "../readingTimer/useReadingTimer";
import { ApiError } from "../api/ApiError";
import { navigate } from "../router/history";
import { Link } from "../router/Link";
import { CaseHeader } from "../viewer/CaseHeader";
import { AiPanel } from "../viewer/ai/AiPanel";
import { isHeldBack } from "../viewer/ai/lesionDisplay";
import { useStudyAi } from "../viewer/ai/useStudyAi";
import { useStudySegmentation } from "../viewer/ai/useStudySegmentation";
import { markerRadius } from "../viewer/overlay/focusMarker";
import { lesionTargets, planarLabelmap } from "../viewer/overlay/planarLabelmap";
import { DEFAULT_OVERLAY_STYLE, type OverlayStyle } from "../viewer/overlay/overlayStyle";
import { PlanarViewer, type FocusRequest } from "../viewer/planar/PlanarViewer";
import { prefetchPlanarImages } from "../viewer/planar/prefetchPlanarImages";
import { ReportPanel } from "../viewer/report/ReportPanel";
import { useAuth } from "../auth/useAuth";
import { SpectCtViewer, type VolumeFocus } from "../viewer/spectct/SpectCtViewer";
import type { ViewerAction } from "../viewer/shortcuts";
import { ShortcutsHelp } from "../viewer/ShortcutsHelp";
import { useShortcuts } from "../viewer/useShortcuts";
import { useCaseNavigation } from "../worklist/useCaseNavigation";

function isNotFound(error: unknown): boolean {
  return (
    error instanceof ApiError &&
    (error.status === 404 || error.code === "study_not_found")
  );
}

/** One case: header with navigation, the viewer for its kind, and the shortcut help. */
export function CasePage({ studyId }: { studyId: string }) {
  const { t } = useI18n();
  const [state, retry] = useAsync(
    (signal) => getStudy(studyId, signal).then(prefetchPlanarImages),
    [studyId],
  );
  const nav = useCaseNavigation(studyId);
  // A clinical reading ends when the report is signed (or the reader leaves the case).
  const readingTimer = useReadingTimer(studyId);
  const [helpOpen, setHelpOpen] = useState(false);
  const [viewerAction, setViewerAction] = useState<ViewerAction | null>(null);
  const [panel, setPanel] = useState<"ai" | "report">("ai");
  const [overlayStyle, setOverlayStyle] = useState<OverlayStyle>(DEFAULT_OVERLAY_STYLE);
  const [focus, setFocus] = useState<FocusRequest | null>(null);
  const [volumeFocus, setVolumeFocus] = useState<VolumeFocus | null>(null);
  const live = useLiveStatus([studyId]).get(studyId) ?? null;
  // A new job, a state change or a new result: the AI panel reloads (it polls itself only
  // while a job it knows of runs, so a job queued by signing would otherwise go unseen).
  const aiState = useStudyAi(
    studyId,
    live ? `${live.ai_job_id}|${live.ai_status}|${live.ai_result_job_id}` : "",
  );
  // The header's report status: the newest of what the report panel answered and what the
  // live status says (a colleague may sign meanwhile).
  const [reportStatus, setReportStatus] = useState<ReportStatus | null | undefined>(
    undefined,
  );
  const liveReport = live ? `${live.report_status}|${live.report_version}` : null;
  useEffect(() => {
    if (live) setReportStatus(live.report_status);
    // Only when the live report state changes, not on every poll.
  }, [liveReport]);
  useEffect(() => setReportStatus(undefined), [studyId]);
  const { user } = useAuth();
  const result = aiState.ai?.result ?? null;
  // The overlay: the AI result's DICOM SEG (or another tool's SEG of the study).
  const seg = useStudySegmentation(studyId, result?.job_id ?? null);
  const labelmap = useMemo(
    () => (seg.labelmap ? planarLabelmap(seg.labelmap.frames, seg.labelmap) : null),
    [seg.labelmap],
  );

  useShortcuts((action) => {
    switch (action.type) {
      case "nextCase":
        nav.go(1);
        break;
      case "prevCase":
        nav.go(-1);
        break;
      case "toggleHelp":
        setHelpOpen((open) => !open);
        break;
      case "closeHelp":
        setHelpOpen(false);
        break;
      case "backToList":
        navigate("/worklist");
        break;
      case "toggleOverlay":
        setOverlayStyle((style) => ({ ...style, visible: !style.visible }));
        break;
      default:
        // A fresh object per key press: the same key pressed twice must act twice.
        setViewerAction({ ...action });
    }
  });

  const study = state.status === "success" ? state.data : null;
  const kind = study?.kind;
  // The ring round a held-back finding (it has no outline) belongs to the result it came
  // from: hiding the held-back list or showing another result takes it away.
  const clearMarker = () => {
    if (kind === "spectct") {
      setVolumeFocus({ lesion: null, nonce: Date.now(), marker: false });
      return;
    }
    setFocus({ targets: {}, nonce: Date.now(), markerRadius: null });
  };
  const shownJob = result?.job_id ?? null;
  const markedJob = useRef(shownJob);
  useEffect(() => {
    if (markedJob.current === shownJob) return;
    markedJob.current = shownJob;
    clearMarker();
    // Only when another result is shown, not on every render.
  }, [shownJob]);

  useEffect(() => {
    // On fused SPECT/CT a red fill blends into the SPECT colour map: outline instead.
    if (kind === "spectct") setOverlayStyle((style) => ({ ...style, outline: true }));
  }, [kind]);

  if (state.status === "error" && isNotFound(state.error)) {
    return (
      <section className="case-page" data-testid="case" data-study-id={studyId}>
        <div className="case-not-found" data-testid="case-not-found" role="alert">
          <p>{t("case.notFound")}</p>
          <Link
            to="/worklist"
            className="btn btn-primary"
            data-testid="case-not-found-back"
          >
            {t("case.backToWorklist")}
          </Link>
        </div>
      </section>
    );
  }

  return (
    <section className="case-page" data-testid="case" data-study-id={studyId}>
      <CaseHeader
        study={
          study && reportStatus !== undefined
            ? { ...study, report_status: reportStatus }
            : study
        }
        aiStatus={
          aiState.ai?.latest_job?.state ?? live?.ai_status ?? study?.ai_status ?? null
        }
        nav={nav}
        onHelp={() => setHelpOpen((open) => !open)}
      />
      <div className="case-body">
        <div className="case-viewer">
          {state.status === "error" && <ErrorBox error={state.error} onRetry={retry} />}
          {state.status === "loading" && (
            <CenteredMessage>{t("common.loading")}</CenteredMessage>
          )}
          {study && study.kind === "spectct" && (
            <SpectCtViewer
              study={study}
              action={viewerAction}
              labelmap={seg.labelmap}
              labelmapFrames={seg.labelmap?.frames}
              overlayStyle={overlayStyle}
              focusLesion={volumeFocus}
            />
          )}
          {study && study.kind !== "spectct" && (
            <PlanarViewer
              study={study}
              action={viewerAction}
              labelmap={labelmap}
              overlayStyle={overlayStyle}
              focus={focus}
            />
          )}
          {helpOpen && (
            <ShortcutsHelp
              onClose={() => setHelpOpen(false)}
              volume={kind === "spectct"}
            />
          )}
          <LeaveConfirm />
        </div>
        <aside className="side-panel">
          <div className="tabs" role="tablist">
            <button
              type="button"
              role="tab"
              aria-selected={panel === "ai"}
              className={panel === "ai" ? "tab active" : "tab"}
              data-testid="tab-ai"
              onClick={() => setPanel("ai")}
            >
              {t("panel.ai")}
            </button>
            <button
              type="button"
              role="tab"
              aria-selected={panel === "report"}
              className={panel === "report" ? "tab active" : "tab"}
              data-testid="tab-report"
              onClick={() => setPanel("report")}
            >
              {t("panel.report")}
            </button>
          </div>
          {panel === "ai" ? (
            <AiPanel
              state={aiState}
              segmentation={seg.segmentation}
              style={overlayStyle}
              onStyle={setOverlayStyle}
              canRun={user !== null && user.role !== "reader"}
              onLesion={(lesion) => {
                if (study?.kind === "spectct") {
                  setVolumeFocus({
                    lesion,
                    nonce: Date.now(),
                    marker: isHeldBack(lesion),
                  });
                  return;
                }
                setFocus({
                  targets: lesionTargets(lesion.locations),
                  nonce: Date.now(),
                  // no outline on the image: a ring shows where it is
                  markerRadius: isHeldBack(lesion) ? markerRadius(lesion.bbox) : null,
                });
              }}
              onHeldBackHidden={clearMarker}
            />
          ) : null}
          {/* Kept mounted behind the AI tab: switching tabs must not drop the draft. */}
          <div hidden={panel !== "report"}>
            <ReportPanel
              studyId={studyId}
              onReport={(r) => setReportStatus(r.status)}
              onSigned={(at) => readingTimer.current?.submit(at)}
            />
          </div>
        </aside>
      </div>
    </section>
  );
}
