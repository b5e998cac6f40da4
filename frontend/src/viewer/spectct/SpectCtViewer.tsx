import { useEffect, useRef, useState } from "react";
import type { Labelmap, LabelmapFrame, Lesion } from "../../api/inference";
import type { StudyDetail } from "../../api/studies";
import { DEFAULT_OVERLAY_STYLE, type OverlayStyle } from "../overlay/overlayStyle";
import { CenteredMessage } from "../../components/CenteredMessage";
import { useI18n } from "../../i18n/useI18n";
import type { MessageKey } from "../../i18n/messages";
import type { ViewerAction } from "../shortcuts";
import { useViewerController } from "../useViewerController";
import { DEFAULT_SPECT_OPACITY, type FusionMode } from "./fusionSettings";
import { PLANES, SpectCtController, type Plane } from "./SpectCtController";
import { spectCtSources } from "./spectctSeries";
import { SpectCtToolbar, type SpectCtSettings } from "./SpectCtToolbar";

const PLANE_KEYS: Record<Plane, MessageKey> = {
  axial: "spect.axial",
  coronal: "spect.coronal",
  sagittal: "spect.sagittal",
};

const NEXT_MODE: Record<FusionMode, FusionMode> = {
  fused: "ct",
  ct: "spect",
  spect: "fused",
};

interface Props {
  study: StudyDetail;
  action: ViewerAction | null;
  labelmap?: Labelmap | null;
  labelmapFrames?: LabelmapFrame[];
  overlayStyle?: OverlayStyle;
  /**
   * Centre the views on a lesion; `marker`: also ring it (a finding without an outline);
   * `lesion` null: only remove the ring.
   */
  focusLesion?: VolumeFocus | null;
}

export interface VolumeFocus {
  lesion: Lesion | null;
  nonce: number;
  marker: boolean;
}

const NO_FRAMES: LabelmapFrame[] = [];

export function SpectCtViewer({
  study,
  action,
  labelmap = null,
  labelmapFrames = NO_FRAMES,
  overlayStyle = DEFAULT_OVERLAY_STYLE,
  focusLesion = null,
}: Props) {
  const { t } = useI18n();
  const refs = {
    axial: useRef<HTMLDivElement>(null),
    coronal: useRef<HTMLDivElement>(null),
    sagittal: useRef<HTMLDivElement>(null),
  };
  const [progress, setProgress] = useState({ done: 0, total: 0 });
  const [rendered, setRendered] = useState(false);
  const [fused, setFused] = useState(false);
  const [settings, setSettings] = useState<SpectCtSettings>({
    mode: "fused",
    opacity: DEFAULT_SPECT_OPACITY,
    spectLevel: 1,
    ctPreset: "softTissue",
    tool: "crosshairs",
  });
  const sources = spectCtSources(study);
  const complete = sources.ct !== null && sources.spect !== null;

  // One controller per study; the sources are derived from it.
  const { controllerRef, load, loadError } = useViewerController(
    () => (complete ? new SpectCtController() : null),
    (controller) =>
      controller.mount(
        {
          axial: refs.axial.current,
          coronal: refs.coronal.current,
          sagittal: refs.sagittal.current,
        },
        sources,
        {
          onProgress: (done, total) => setProgress({ done, total }),
          onCtShown: () => {
            setRendered(true);
            performance.mark("boneread:spectct-ct-shown");
          },
          onFused: () => {
            setFused(true);
            // The benchmark's "first fused render".
            performance.mark("boneread:spectct-first-image");
          },
        },
      ),
    [study.id, complete],
  );

  useEffect(() => {
    controllerRef.current?.setLabelmap(labelmap, labelmapFrames);
  }, [labelmap, labelmapFrames, load]);

  useEffect(() => {
    controllerRef.current?.setOverlayStyle(overlayStyle);
  }, [overlayStyle, load]);

  useEffect(() => {
    if (!focusLesion) return;
    const { lesion, marker } = focusLesion;
    if (!lesion) {
      controllerRef.current?.setMarker(null);
      return;
    }
    controllerRef.current?.focusOnLesion(
      lesion.centroid,
      lesion.locations,
      labelmapFrames,
      marker ? lesion.bbox : null,
    );
    // Runs once per click.
  }, [focusLesion]);

  const change = (next: Partial<SpectCtSettings>) => {
    setSettings((current) => ({ ...current, ...next }));
    const c = controllerRef.current;
    if (!c) return;
    if (next.mode !== undefined) c.setMode(next.mode);
    if (next.opacity !== undefined) c.setOpacity(next.opacity);
    if (next.spectLevel !== undefined) c.setSpectLevel(next.spectLevel);
    if (next.ctPreset !== undefined) c.setCtPreset(next.ctPreset);
    if (next.tool !== undefined) c.setPrimaryTool(next.tool);
  };

  useEffect(() => {
    if (action === null) return;
    if (action.type === "cycleFusion") change({ mode: NEXT_MODE[settings.mode] });
    else if (action.type === "reset") controllerRef.current?.reset();
    else if (action.type === "tool" && action.tool === "crosshairs")
      change({ tool: "crosshairs" });
    else if (action.type === "tool" && action.tool === "window")
      change({ tool: "window" });
    // Runs once per action object.
  }, [action]);

  if (!complete) return <CenteredMessage>{t("spect.missing")}</CenteredMessage>;

  return (
    <div className="spectct-viewer" data-testid="spectct-viewer" data-state={load}>
      <SpectCtToolbar
        settings={settings}
        onChange={change}
        onReset={() => controllerRef.current?.reset()}
      />
      {load === "loading" && progress.total > 0 && progress.done < progress.total && (
        <div className="viewer-progress">{t("spect.loading", progress)}</div>
      )}
      {load === "error" && (
        <div className="error-box" role="alert">
          {t("viewer.loadFailed", { message: loadError })}
        </div>
      )}
      <div className="spectct-views">
        {PLANES.map((plane) => (
          <figure className="spectct-view" key={plane}>
            <figcaption>{t(PLANE_KEYS[plane])}</figcaption>
            <div
              ref={refs[plane]}
              className="viewport-element"
              data-testid={`viewport-${plane}`}
              data-rendered={rendered ? "true" : "false"}
              data-fused={fused ? "true" : "false"}
              onContextMenu={(e) => e.preventDefault()}
            />
          </figure>
        ))}
      </div>
    </div>
  );
}
