import { useEffect, useRef, useState } from "react";
import type { StudyDetail } from "../../api/studies";
import { CenteredMessage } from "../../components/CenteredMessage";
import { useI18n } from "../../i18n/useI18n";
import type { PlanarLabelmap } from "../overlay/planarLabelmap";
import { DEFAULT_OVERLAY_STYLE, type OverlayStyle } from "../overlay/overlayStyle";
import type { ViewerAction } from "../shortcuts";
import { useViewerController } from "../useViewerController";
import { PlanarToolbar } from "./PlanarToolbar";
import { PlanarViewerController, type PlanarTool } from "./PlanarViewerController";
import { planarViews } from "./planarViews";
import type { PresetId } from "./windowPresets";

export interface FocusRequest {
  targets: Partial<Record<"anterior" | "posterior", { row: number; col: number }>>;
  /** Changes on every click, so clicking the same lesion twice re-centres. */
  nonce: number;
  /** A ring of this radius (pixels) round a finding without an outline; null: none. */
  markerRadius?: number | null;
}

interface Props {
  study: StudyDetail;
  /** Actions from the case screen's shortcuts that concern the images. */
  action: ViewerAction | null;
  labelmap?: PlanarLabelmap | null;
  overlayStyle?: OverlayStyle;
  focus?: FocusRequest | null;
}

export function PlanarViewer({
  study,
  action,
  labelmap = null,
  overlayStyle = DEFAULT_OVERLAY_STYLE,
  focus = null,
}: Props) {
  const { t } = useI18n();
  const anteriorRef = useRef<HTMLDivElement>(null);
  const posteriorRef = useRef<HTMLDivElement>(null);
  const [rendered, setRendered] = useState(false);
  const [preset, setPreset] = useState<PresetId>("auto");
  const [inverted, setInverted] = useState(true);
  const [tool, setTool] = useState<PlanarTool>("window");
  const views = planarViews(study);
  const hasImages = views.anterior !== null || views.posterior !== null;

  // One controller per study; the views are derived from it.
  const { controllerRef, load, loadError } = useViewerController(
    () => (hasImages ? new PlanarViewerController() : null),
    (controller) =>
      controller.mount(
        { anterior: anteriorRef.current, posterior: posteriorRef.current },
        views,
        () => {
          setRendered(true);
          performance.mark("boneread:planar-first-image");
        },
      ),
    [study.id, hasImages],
  );

  useEffect(() => {
    controllerRef.current?.setLabelmap(labelmap);
  }, [labelmap, load]);

  useEffect(() => {
    controllerRef.current?.setOverlayStyle(overlayStyle);
  }, [overlayStyle, load]);

  useEffect(() => {
    if (focus)
      controllerRef.current?.focusOnLesion(focus.targets, focus.markerRadius ?? null);
  }, [focus]);

  const choosePreset = (p: PresetId) => {
    setPreset(p);
    controllerRef.current?.setPreset(p);
  };
  const chooseInverted = (value: boolean) => {
    setInverted(value);
    controllerRef.current?.setInverted(value);
  };
  const chooseTool = (value: PlanarTool) => {
    setTool(value);
    controllerRef.current?.setPrimaryTool(value);
  };
  const reset = () => controllerRef.current?.reset();

  useEffect(() => {
    if (action === null) return;
    if (action.type === "preset") choosePreset(action.preset);
    else if (action.type === "invert") chooseInverted(!inverted);
    else if (action.type === "tool" && action.tool !== "crosshairs")
      chooseTool(action.tool);
    else if (action.type === "reset") reset();
    // Runs once per action object.
  }, [action]);

  if (!hasImages) return <CenteredMessage>{t("viewer.noImages")}</CenteredMessage>;

  return (
    <div className="planar-viewer" data-testid="planar-viewer" data-state={load}>
      <PlanarToolbar
        preset={preset}
        inverted={inverted}
        tool={tool}
        onPreset={choosePreset}
        onInvert={chooseInverted}
        onTool={chooseTool}
        onReset={reset}
      />
      {load === "error" && (
        <div className="error-box" role="alert">
          {t("viewer.loadFailed", { message: loadError })}
        </div>
      )}
      <div className="planar-views">
        {(["anterior", "posterior"] as const).map((view) =>
          views[view] === null ? null : (
            <figure className="planar-view" key={view}>
              <figcaption>
                {t(view === "anterior" ? "viewer.anterior" : "viewer.posterior")}
              </figcaption>
              <div
                ref={view === "anterior" ? anteriorRef : posteriorRef}
                className="viewport-element"
                data-testid={`viewport-${view}`}
                data-rendered={rendered ? "true" : "false"}
                onContextMenu={(e) => e.preventDefault()}
              />
            </figure>
          ),
        )}
      </div>
    </div>
  );
}
