import { useState } from "react";
import { getStudy } from "../api/studies";
import { CenteredMessage } from "../components/CenteredMessage";
import { ErrorBox } from "../components/ErrorBox";
import { useI18n } from "../i18n/useI18n";
import { useAsync } from "../lib/hooks/useAsync";
import { useReadingTimer } from "../readingTimer/useReadingTimer";
import { navigate } from "../router/history";
import { CaseHeader } from "../viewer/CaseHeader";
import { PlanarViewer } from "../viewer/planar/PlanarViewer";
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
      default:
        setViewerAction(action);
    }
  });

  const study = state.status === "success" ? state.data : null;

  return (
    <section className="case-page" data-testid="case" data-study-id={studyId}>
      <CaseHeader study={study} nav={nav} onHelp={() => setHelpOpen((open) => !open)} />
      <div className="case-body">
        {state.status === "error" && <ErrorBox error={state.error} onRetry={retry} />}
        {state.status === "loading" && (
          <CenteredMessage>{t("common.loading")}</CenteredMessage>
        )}
        {study && study.kind === "planar" && (
          <PlanarViewer study={study} action={viewerAction} />
        )}
        {study && study.kind === "spectct" && (
          <SpectCtViewer study={study} action={viewerAction} />
        )}
        {study && study.kind === "other" && (
          <PlanarViewer study={study} action={viewerAction} />
        )}
        {helpOpen && <ShortcutsHelp onClose={() => setHelpOpen(false)} />}
      </div>
    </section>
  );
}
