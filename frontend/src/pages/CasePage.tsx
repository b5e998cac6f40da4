import { useEffect, useMemo, useState } from "react";
import { getStudy } from "../api/studies";
import { CenteredMessage } from "../components/CenteredMessage";
import { ErrorBox } from "../components/ErrorBox";
import { useI18n } from "../i18n/useI18n";
import { useAsync } from "../lib/hooks/useAsync";
import { useReadingTimer } from "../readingTimer/useReadingTimer";
import { navigate } from "../router/history";
import { CaseHeader } from "../viewer/CaseHeader";
import type { Lesion } from "../api/inference";
import { AiPanel } from "../viewer/ai/AiPanel";
import { useStudyAi } from "../viewer/ai/useStudyAi";
import { useStudySegmentation } from "../viewer/ai/useStudySegmentation";
import { lesionTargets, planarLabelmap } from "../viewer/overlay/planarLabelmap";
import { DEFAULT_OVERLAY_STYLE, type OverlayStyle } from "../viewer/overlay/overlayStyle";
import { PlanarViewer, type FocusRequest } from "../viewer/planar/PlanarViewer";
import { ReportPanel } from "../viewer/report/ReportPanel";
import { useAuth } from "../auth/useAuth";
import { SpectCtViewer } from "../viewer/spectct/SpectCtViewer";
import type { ViewerAction } from "../viewer/shortcuts";
import { ShortcutsHelp } from "../viewer/ShortcutsHelp";
import { useShortcuts } from "../viewer/useShortcuts";
import { useCaseNavigation } from "../worklist/useCaseNavigation";

/** One case: header with navigation, the viewer for its kind, and the shortcut help. */
export function CasePage({ studyId }: { studyId: string }) {
  const { t } = useI18n();
  const [state, retry] = useAsync((signal) => getStudy(studyId, signal), [studyId]);
  const nav = useCaseNavigation(studyId);
  useReadingTimer(studyId);
  const [helpOpen, setHelpOpen] = useState(false);
  const [viewerAction, setViewerAction] = useState<ViewerAction | null>(null);
  const [panel, setPanel] = useState<"ai" | "report">("ai");
  const [overlayStyle, setOverlayStyle] = useState<OverlayStyle>(DEFAULT_OVERLAY_STYLE);
  const [focus, setFocus] = useState<FocusRequest | null>(null);
  const [volumeFocus, setVolumeFocus] = useState<{
    lesion: Lesion;
    nonce: number;
  } | null>(null);
  const aiState = useStudyAi(studyId);
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
        setViewerAction(action);
    }
  });

  const study = state.status === "success" ? state.data : null;
  const kind = study?.kind;
  useEffect(() => {
    // On fused SPECT/CT a red fill blends into the SPECT colour map: outline instead.
    if (kind === "spectct") setOverlayStyle((style) => ({ ...style, outline: true }));
  }, [kind]);

  return (
    <section className="case-page" data-testid="case" data-study-id={studyId}>
      <CaseHeader
        study={study}
        aiStatus={aiState.ai?.latest_job?.state ?? study?.ai_status ?? null}
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
                  setVolumeFocus({ lesion, nonce: Date.now() });
                  return;
                }
                setFocus({ targets: lesionTargets(lesion.locations), nonce: Date.now() });
              }}
            />
          ) : (
            <ReportPanel studyId={studyId} />
          )}
        </aside>
      </div>
    </section>
  );
}
