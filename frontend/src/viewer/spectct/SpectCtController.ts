import {
  Enums as CoreEnums,
  cache,
  eventTarget,
  setVolumesForViewports,
  volumeLoader,
  type RenderingEngine,
  type Types,
} from "@cornerstonejs/core";
import {
  CrosshairsTool,
  Enums as ToolEnums,
  segmentation,
  PanTool,
  StackScrollTool,
  WindowLevelTool,
  ZoomTool,
  addTool,
} from "@cornerstonejs/tools";
import { initCornerstone } from "../../lib/cornerstone/init";
import {
  prefetchInstances,
  prefetchSeries,
} from "../../lib/cornerstone/prefetchInstances";
import { ViewerResources } from "../../lib/cornerstone/ViewerResources";
import { countStats } from "../planar/windowPresets";
import {
  CT_PRESETS,
  DEFAULT_SPECT_OPACITY,
  SPECT_COLORMAP,
  spectWindow,
  type CtPresetId,
  type FusionMode,
} from "./fusionSettings";
import type { SpectCtSources, VolumeSource } from "./spectctSeries";
import type { Labelmap, LabelmapFrame } from "../../api/inference";
import {
  CLASS_COLORS,
  DEFAULT_OVERLAY_STYLE,
  LABEL_BENIGN,
  LABEL_METASTATIC,
  type OverlayStyle,
} from "../overlay/overlayStyle";
import { labelmapInVolumeOrder, lesionVoxel } from "./volumeLabelmap";
import { markerRadiusMm } from "../overlay/focusMarker";
import { VolumeMarkerOverlay, type WorldMarker } from "../overlay/VolumeMarkerOverlay";

export type Plane = "axial" | "coronal" | "sagittal";
export const PLANES: readonly Plane[] = ["axial", "coronal", "sagittal"];

const ORIENTATION: Record<Plane, CoreEnums.OrientationAxis> = {
  axial: CoreEnums.OrientationAxis.AXIAL,
  coronal: CoreEnums.OrientationAxis.CORONAL,
  sagittal: CoreEnums.OrientationAxis.SAGITTAL,
};

const { MouseBindings } = ToolEnums;
const VOLUME_SCHEME = "cornerstoneStreamingImageVolume";
const CROSSHAIR_COLOR = "rgb(110, 170, 255)";
/** See SpectCtController.linearSpectOpacity. */
const SLICE_RAY_MM = 0.127;
/** How long the CT's decoding waits for the SPECT's to be queued first (see mount). */
const SPECT_HEAD_START_MS = 300;
/** "No label map": clears a shown one. */
const EMPTY_LABELMAP: Labelmap = { shape: [0], data: new Uint8Array(0) };

export type PrimaryVolumeTool = "crosshairs" | "window";

/** A volume's files into Cornerstone's cache: a series of many files in one request. */
function volumeFiles(
  source: VolumeSource,
  signal: AbortSignal,
  onProgress: () => void,
): Promise<void> {
  if (source.seriesUrl !== null && source.urls.length > 1) {
    const files = source.urls.map((url, k) => ({
      url,
      sopInstanceUid: source.sopInstanceUids[k] ?? "",
    }));
    return prefetchSeries(source.seriesUrl, files, { signal, onProgress });
  }
  return prefetchInstances(source.urls, { signal, onProgress });
}

/**
 * SPECT over CT in three orthogonal volume viewports with linked crosshairs.
 * Owns its rendering engine, tool group, volumes and listeners; destroy()
 * removes them all, volumes included, so leaving a case frees its memory.
 */
export class SpectCtController {
  private readonly resources = new ViewerResources("spectct");
  private readonly abort = new AbortController();
  private engine: RenderingEngine | null = null;
  private readonly viewportIds: Record<Plane, string> = {
    axial: this.resources.id("axial"),
    coronal: this.resources.id("coronal"),
    sagittal: this.resources.id("sagittal"),
  };
  private readonly ctVolumeId = `${VOLUME_SCHEME}:${this.resources.id("ct")}`;
  private readonly spectVolumeId = `${VOLUME_SCHEME}:${this.resources.id("spect")}`;
  private readonly segVolumeId = `${VOLUME_SCHEME}:${this.resources.id("seg")}`;
  private readonly segmentationId = this.resources.id("ai");
  private segmentationShown = false;
  private readonly markers = new Map<string, VolumeMarkerOverlay>();
  private shownLabelmap: Labelmap | null = null;
  private pendingLabelmap: { labelmap: Labelmap; frames: LabelmapFrame[] } | null = null;
  private overlayStyle: OverlayStyle = DEFAULT_OVERLAY_STYLE;
  private ready = false;
  private spectShown = false;
  private toolGroupId: string | null = null;
  private primary: PrimaryVolumeTool = "crosshairs";
  private spectRobustMax = 1;
  private settings = {
    mode: "fused" as FusionMode,
    opacity: DEFAULT_SPECT_OPACITY,
    spectLevel: 1,
    ctPreset: "softTissue" as CtPresetId,
  };

  get isDestroyed(): boolean {
    return this.resources.isDestroyed;
  }

  /**
   * Loads and shows the study: the SPECT file and the CT series download at the
   * same time and decode; each volume is drawn once it is decoded, both together
   * when the SPECT is ready by the time the CT is (`onCtShown` and `onFused` at
   * once), else the CT alone first. The AI overlay follows the first fused frame.
   */
  async mount(
    elements: Record<Plane, HTMLDivElement | null>,
    sources: SpectCtSources,
    callbacks: {
      onProgress?: (done: number, total: number) => void;
      onCtShown?: () => void;
      onFused?: () => void;
    } = {},
  ): Promise<boolean> {
    const { ct, spect } = sources;
    if (!ct || !spect) throw new Error("This study needs a CT and a SPECT volume.");
    await initCornerstone();
    if (this.isDestroyed) return false;

    // Progress: the files downloaded, then the slices decoded (the views stay empty
    // until the CT is decoded; the count must not stand at "done" meanwhile).
    const total =
      spect.urls.length + ct.urls.length + spect.imageIds.length + ct.imageIds.length;
    let filesDone = 0;
    const decoded = new Map<string, number>();
    let reportTimer = 0;
    const report = () => {
      if (reportTimer !== 0 || this.isDestroyed) return;
      // At most every 100 ms: a React update per slice took time from the decoding.
      reportTimer = window.setTimeout(() => {
        reportTimer = 0;
        if (this.isDestroyed) return;
        let done = filesDone;
        for (const n of decoded.values()) done += n;
        callbacks.onProgress?.(Math.min(done, total), total);
      }, 100);
    };
    const onProgress = () => {
      filesDone += 1;
      report();
    };
    const onVolumeModified = (event: Event) => {
      const detail = (
        event as CustomEvent<{ volumeId?: string; framesProcessed?: number }>
      ).detail;
      if (detail?.volumeId !== this.ctVolumeId && detail?.volumeId !== this.spectVolumeId)
        return;
      decoded.set(detail.volumeId, detail.framesProcessed ?? 0);
      report();
    };
    eventTarget.addEventListener(
      CoreEnums.Events.IMAGE_VOLUME_MODIFIED,
      onVolumeModified,
    );
    this.resources.onDestroy(() => {
      window.clearTimeout(reportTimer);
      eventTarget.removeEventListener(
        CoreEnums.Events.IMAGE_VOLUME_MODIFIED,
        onVolumeModified,
      );
    });
    const signal = this.abort.signal;
    const spectFiles = volumeFiles(spect, signal, onProgress);
    const ctFiles = volumeFiles(ct, signal, onProgress);
    // Either may fail; the other's rejection must not go unhandled meanwhile.
    spectFiles.catch(() => undefined);

    const engine = this.resources.createRenderingEngine();
    this.engine = engine;
    const inputs: Types.PublicViewportInput[] = [];
    for (const plane of PLANES) {
      const element = elements[plane];
      if (!element) continue;
      inputs.push({
        viewportId: this.viewportIds[plane],
        type: CoreEnums.ViewportType.ORTHOGRAPHIC,
        element,
        defaultOptions: { orientation: ORIENTATION[plane], background: [0, 0, 0] },
      });
    }
    engine.setViewports(inputs);
    this.resources.watchResize(Object.values(elements), () =>
      this.engine?.resize(true, false),
    );
    this.resources.onDestroy(() => {
      cache.removeVolumeLoadObject(this.ctVolumeId);
      cache.removeVolumeLoadObject(this.spectVolumeId);
    });
    const viewportIds = PLANES.map((p) => this.viewportIds[p]);

    // The SPECT (one file, small) is decoded before the CT: the two volumes' frames go
    // through one queue in the order the volumes are loaded, and a SPECT queued behind the
    // CT's 128 slices came after them, so the fused views waited for it (and for the CT
    // drawn alone meanwhile).
    let spectDecoded = false;
    let spectQueued: () => void = () => undefined;
    const spectInQueue = new Promise<void>((resolve) => (spectQueued = resolve));
    const spectReady = spectFiles.then(async () => {
      if (this.isDestroyed) return null;
      const volume = await volumeLoader.createAndCacheVolume(this.spectVolumeId, {
        imageIds: spect.imageIds,
      });
      const loaded = new Promise<void>((resolve) => volume.load(() => resolve()));
      performance.mark("boneread:spectct-spect-queued");
      spectQueued();
      await loaded;
      spectDecoded = true;
      performance.mark("boneread:spectct-spect-decoded");
      return volume;
    });
    spectReady.catch(() => undefined).finally(spectQueued);

    // 1. The CT, decoded before any view holds it: a volume in a view is redrawn every
    // two decoded slices (Cornerstone's progressive loading), and with software WebGL
    // those redraws (3 views each) took the CPU the decoding needed: the fused views
    // came 10-25 s after the files were in. Decoded first, the CT is drawn once.
    await ctFiles;
    if (this.isDestroyed) return false;
    // Its slices are queued after the SPECT's frames when the SPECT is in (nearly) as soon;
    // a late SPECT does not hold the CT back (it is shown alone meanwhile).
    await Promise.race([
      spectInQueue,
      new Promise<void>((resolve) => window.setTimeout(resolve, SPECT_HEAD_START_MS)),
    ]);
    if (this.isDestroyed) return false;
    performance.mark("boneread:spectct-ct-queued");
    const ctVolume = await volumeLoader.createAndCacheVolume(this.ctVolumeId, {
      imageIds: ct.imageIds,
    });
    if (this.isDestroyed) return false;
    await new Promise<void>((resolve) => ctVolume.load(() => resolve()));
    if (this.isDestroyed) return false;
    performance.mark("boneread:spectct-ct-decoded");

    // The SPECT is usually decoded by now: both volumes go in together, one draw (the CT
    // and the fused views appear at once). Otherwise the CT is shown alone meanwhile.
    if (!spectDecoded) {
      await setVolumesForViewports(engine, [{ volumeId: this.ctVolumeId }], viewportIds);
      if (this.isDestroyed) return false;
      this.setUpTools();
      this.apply();
      if (callbacks.onCtShown)
        this.resources.afterNextRender(elements.axial, callbacks.onCtShown);
    }

    // 2. The SPECT over it, once decoded (no grey flash before its colour map).
    const spectVolume = await spectReady;
    if (!spectVolume || this.isDestroyed) return false;
    const data = spectVolume.voxelManager?.getCompleteScalarDataArray?.();
    if (data) this.spectRobustMax = countStats(data).robustMax;
    // Both volumes set together: vtk then composites them in one ray cast (a volume
    // added as a second actor is hidden behind the opaque CT slab).
    const ctAlreadyShown = this.viewports().some((vp) => vp.getActors().length > 0);
    await setVolumesForViewports(
      engine,
      [{ volumeId: this.ctVolumeId }, { volumeId: this.spectVolumeId }],
      viewportIds,
    );
    if (this.isDestroyed) return false;
    if (!ctAlreadyShown) this.setUpTools();
    this.spectShown = true;
    this.apply();
    const onCtShown = ctAlreadyShown ? undefined : callbacks.onCtShown;
    const onFused = callbacks.onFused;
    // The AI overlay goes on after the first fused frame: building its label-map volume
    // and actors in the same frame held the fused views back by about a second (measured
    // with software WebGL under load).
    await new Promise<void>((resolve) => {
      if (!elements.axial) {
        onCtShown?.();
        onFused?.();
        resolve();
        return;
      }
      // Should no frame come (a lost WebGL context), the overlay is not held back for ever.
      const fallback = window.setTimeout(resolve, 5000);
      this.resources.onDestroy(() => window.clearTimeout(fallback));
      this.resources.afterNextRender(elements.axial, () => {
        window.clearTimeout(fallback);
        onCtShown?.();
        onFused?.();
        resolve();
      });
    });
    if (this.isDestroyed) return false;
    this.ready = true;
    if (this.pendingLabelmap) this.showLabelmap(this.pendingLabelmap);
    return true;
  }

  private viewports(): Types.IVolumeViewport[] {
    if (!this.engine || this.isDestroyed) return [];
    const out: Types.IVolumeViewport[] = [];
    for (const plane of PLANES) {
      const vp = this.engine.getViewport<Types.IVolumeViewport | undefined>(
        this.viewportIds[plane],
      );
      if (vp) out.push(vp);
    }
    return out;
  }

  private setUpTools(): void {
    addTool(CrosshairsTool);
    addTool(WindowLevelTool);
    addTool(PanTool);
    addTool(ZoomTool);
    addTool(StackScrollTool);
    const group = this.resources.createToolGroup("tools");
    // Crosshair lines in one light blue: the default green/red/yellow lines looked
    // like the AI class colours and the SPECT colour map.
    group.addTool(CrosshairsTool.toolName, {
      getReferenceLineColor: () => CROSSHAIR_COLOR,
    });
    group.addTool(WindowLevelTool.toolName, { volumeId: this.ctVolumeId });
    group.addTool(PanTool.toolName);
    group.addTool(ZoomTool.toolName);
    group.addTool(StackScrollTool.toolName);
    const engineId = this.engine?.id;
    for (const plane of PLANES) group.addViewport(this.viewportIds[plane], engineId);
    group.setToolActive(CrosshairsTool.toolName, {
      bindings: [{ mouseButton: MouseBindings.Primary }],
    });
    group.setToolActive(PanTool.toolName, {
      bindings: [{ mouseButton: MouseBindings.Auxiliary }],
    });
    group.setToolActive(ZoomTool.toolName, {
      bindings: [{ mouseButton: MouseBindings.Secondary }],
    });
    group.setToolActive(StackScrollTool.toolName, {
      bindings: [{ mouseButton: MouseBindings.Wheel }],
    });
    this.toolGroupId = group.id;
  }

  /** Applies the current mode, windows, colour map and opacity to every view. */
  private apply(): void {
    const { mode, opacity, spectLevel, ctPreset } = this.settings;
    const spect = spectWindow(this.spectRobustMax, spectLevel);
    for (const vp of this.viewports()) {
      vp.setProperties({ voiRange: CT_PRESETS[ctPreset] }, this.ctVolumeId);
      if (this.spectShown) {
        this.linearSpectOpacity(vp);
        vp.setProperties(
          {
            voiRange: spect.voi,
            colormap: {
              name: mode === "spect" ? "Grayscale" : SPECT_COLORMAP,
              opacity: mode === "ct" ? 0 : mode === "spect" ? 1 : opacity,
              threshold: mode === "spect" ? 0 : spect.threshold,
            },
          },
          this.spectVolumeId,
        );
      }
      this.setCtVisible(vp, mode !== "spect");
      vp.render();
    }
  }

  /**
   * vtk corrects a volume's opacity for the sampled ray length,
   * 1 - (1 - opacity) ^ (length / unitDistance); through the thin slab of a
   * slice view that length is about 0.13 mm, so with the default unit distance
   * (1 mm) the SPECT over the CT showed as 1 - (1 - opacity) ^ 0.127 of itself
   * (measured in Chromium: 8 % at opacity 0.5, 32 % at 0.95): the slider only
   * worked in its top 5 %. Unit distance and sample distance both equal to
   * that length make the exponent 1 (a smaller unit distance alone would push
   * vtk's opacity table to exactly 1.0 in float32 above opacity 0.6), so the
   * fused pixel moves in proportion to the slider
   * (test_spect_opacity_slider_is_perceptually_linear checks it). Set before
   * the colour map changes, so that the opacity table vtk rebuilds then uses it.
   */
  private linearSpectOpacity(vp: Types.IVolumeViewport): void {
    for (const entry of vp.getActors()) {
      const actor = entry.actor as unknown as {
        getMapper?: () => { setSampleDistance?: (distance: number) => void } | null;
        getProperty?: () => {
          setScalarOpacityUnitDistance?: (component: number, distance: number) => void;
        };
      };
      actor.getMapper?.()?.setSampleDistance?.(SLICE_RAY_MM);
      if (entry.referencedId === this.spectVolumeId || entry.uid === this.spectVolumeId)
        actor.getProperty?.()?.setScalarOpacityUnitDistance?.(0, SLICE_RAY_MM);
    }
  }

  private setCtVisible(vp: Types.IVolumeViewport, visible: boolean): void {
    for (const entry of vp.getActors()) {
      if (entry.referencedId === this.ctVolumeId || entry.uid === this.ctVolumeId) {
        entry.actor.setVisibility(visible);
      }
    }
  }

  /** The AI label map on the CT grid (one frame per CT slice); shown once the volumes are up. */
  setLabelmap(labelmap: Labelmap | null, frames: LabelmapFrame[]): void {
    this.pendingLabelmap = { labelmap: labelmap ?? EMPTY_LABELMAP, frames };
    if (!this.ready) return;
    if (this.segmentationShown) this.replaceLabelmap(this.pendingLabelmap);
    else if (labelmap) this.showLabelmap(this.pendingLabelmap);
  }

  /** A new result (or none) in the label map already shown: new voxels, same segmentation. */
  private replaceLabelmap(input: { labelmap: Labelmap; frames: LabelmapFrame[] }): void {
    if (input.labelmap === this.shownLabelmap) return;
    const ordered = this.labelmapVoxels(input);
    const voxels = cache.getVolume(this.segVolumeId)?.voxelManager;
    if (!ordered || !voxels) return;
    if (voxels.setCompleteScalarDataArray) voxels.setCompleteScalarDataArray(ordered);
    else ordered.forEach((value, i) => voxels.setAtIndex(i, value));
    this.shownLabelmap = input.labelmap;
    segmentation.triggerSegmentationEvents.triggerSegmentationDataModified(
      this.segmentationId,
    );
    for (const vp of this.viewports()) vp.render();
  }

  /** The label map laid out like the CT volume's voxels, or null when it does not fit. */
  private labelmapVoxels(input: {
    labelmap: Labelmap;
    frames: LabelmapFrame[];
  }): Uint8Array | null {
    const ct = cache.getVolume(this.ctVolumeId);
    if (!ct || this.isDestroyed) return null;
    const expected = ct.dimensions[0] * ct.dimensions[1] * ct.dimensions[2];
    if (input.labelmap === EMPTY_LABELMAP) return new Uint8Array(expected);
    const ordered = labelmapInVolumeOrder(input.labelmap, input.frames, ct.imageIds);
    if (!ordered || ordered.length !== expected) {
      console.warn(
        "AI label map does not match the CT volume",
        ordered?.length,
        expected,
      );
      return null;
    }
    return ordered;
  }

  private showLabelmap(input: { labelmap: Labelmap; frames: LabelmapFrame[] }): void {
    if (this.isDestroyed || this.segmentationShown || input.labelmap === EMPTY_LABELMAP)
      return;
    const ordered = this.labelmapVoxels(input);
    if (!ordered) return;
    const seg = volumeLoader.createAndCacheDerivedLabelmapVolume(this.ctVolumeId, {
      volumeId: this.segVolumeId,
    });
    const voxels = seg.voxelManager;
    if (voxels?.setCompleteScalarDataArray) voxels.setCompleteScalarDataArray(ordered);
    else ordered.forEach((value, i) => value && voxels?.setAtIndex(i, value));
    segmentation.addSegmentations([
      {
        segmentationId: this.segmentationId,
        representation: {
          type: ToolEnums.SegmentationRepresentations.Labelmap,
          data: { volumeId: this.segVolumeId },
        },
        // Both classes must be declared: without `segments` Cornerstone knows only
        // segment 1, and visibility of label 2 (metastatic) could never be changed.
        config: {
          label: "AI",
          segments: {
            [LABEL_BENIGN]: { label: "benign" },
            [LABEL_METASTATIC]: { label: "metastatic" },
          },
        },
      },
    ]);
    this.resources.onDestroy(() => {
      segmentation.removeSegmentation(this.segmentationId);
      cache.removeVolumeLoadObject(this.segVolumeId);
    });
    for (const plane of PLANES) {
      segmentation.addLabelmapRepresentationToViewport(this.viewportIds[plane], [
        { segmentationId: this.segmentationId },
      ]);
    }
    this.segmentationShown = true;
    this.shownLabelmap = input.labelmap;
    this.applyOverlayStyle();
    performance.mark("boneread:overlay-drawn");
  }

  setOverlayStyle(style: OverlayStyle): void {
    this.overlayStyle = style;
    this.applyOverlayStyle();
  }

  private applyOverlayStyle(): void {
    if (!this.segmentationShown || this.isDestroyed) return;
    const style = this.overlayStyle;
    const type = ToolEnums.SegmentationRepresentations.Labelmap;
    for (const plane of PLANES) {
      const viewportId = this.viewportIds[plane];
      const specifier = { segmentationId: this.segmentationId, type };
      for (const label of [LABEL_BENIGN, LABEL_METASTATIC]) {
        const rgb = CLASS_COLORS[label] ?? [255, 255, 255];
        segmentation.config.color.setSegmentIndexColor(
          viewportId,
          this.segmentationId,
          label,
          [rgb[0], rgb[1], rgb[2], 255],
        );
        segmentation.config.visibility.setSegmentIndexVisibility(
          viewportId,
          specifier,
          label,
          // Whole-overlay visibility through the segments too: toggling the
          // representation's visibility did not hide it in the fused views.
          style.visible &&
            (label === LABEL_BENIGN ? style.classes.benign : style.classes.metastatic),
        );
      }
      segmentation.config.style.setStyle(
        { viewportId, segmentationId: this.segmentationId, type },
        {
          renderFill: !style.outline,
          renderOutline: true,
          fillAlpha: style.opacity,
          outlineOpacity: 1,
        },
      );
    }
    for (const vp of this.viewports()) vp.render();
  }

  /** Centres every view on a lesion (centroid [slice, row, col] on the label-map grid). */
  focusOnLesion(
    centroid: number[],
    locations: Record<string, unknown> | null,
    frames: LabelmapFrame[],
    markerBbox: readonly number[] | null = null,
  ): void {
    const ct = cache.getVolume(this.ctVolumeId);
    if (!ct || this.isDestroyed) return;
    const voxel = lesionVoxel(centroid, locations, frames, ct.imageIds);
    if (!voxel) return;
    const world = ct.imageData?.indexToWorld(voxel) as Types.Point3 | undefined;
    if (!world) return;
    // A finding without an outline (held back by the model): a ring where it is.
    const spacing = ct.imageData?.getSpacing() ?? [1, 1, 1];
    this.setMarker(
      markerBbox
        ? {
            centre: world,
            radiusMm: markerRadiusMm(markerBbox, [
              spacing[2] ?? 1,
              spacing[1] ?? 1,
              spacing[0] ?? 1,
            ]),
          }
        : null,
    );
    for (const vp of this.viewports()) {
      const camera = vp.getCamera();
      const { focalPoint, position } = camera;
      if (!focalPoint || !position) continue;
      const offset = [
        position[0] - focalPoint[0],
        position[1] - focalPoint[1],
        position[2] - focalPoint[2],
      ];
      vp.setCamera({
        focalPoint: world,
        position: [
          world[0] + (offset[0] ?? 0),
          world[1] + (offset[1] ?? 0),
          world[2] + (offset[2] ?? 0),
        ],
        parallelScale: Math.min(camera.parallelScale ?? 120, 120),
      });
      vp.render();
    }
  }

  /** The ring round a finding without an outline in every view (null removes it). */
  setMarker(marker: WorldMarker | null): void {
    for (const vp of this.viewports()) {
      let overlay = this.markers.get(vp.id);
      if (!overlay && marker) {
        const created = new VolumeMarkerOverlay(vp, vp.element);
        this.markers.set(vp.id, created);
        this.resources.onDestroy(() => created.destroy());
        overlay = created;
      }
      overlay?.setMarker(marker);
    }
  }

  setMode(mode: FusionMode): void {
    this.settings.mode = mode;
    this.apply();
  }

  setOpacity(opacity: number): void {
    this.settings.opacity = Math.min(1, Math.max(0, opacity));
    this.apply();
  }

  setSpectLevel(level: number): void {
    this.settings.spectLevel = level;
    this.apply();
  }

  setCtPreset(preset: CtPresetId): void {
    this.settings.ctPreset = preset;
    this.apply();
  }

  setPrimaryTool(tool: PrimaryVolumeTool): void {
    if (tool === this.primary || this.toolGroupId === null) return;
    const group = this.resources.toolGroup(this.toolGroupId);
    if (!group) return;
    const names = {
      crosshairs: CrosshairsTool.toolName,
      window: WindowLevelTool.toolName,
    };
    group.setToolPassive(names[this.primary]);
    group.setToolActive(names[tool], {
      bindings: [{ mouseButton: MouseBindings.Primary }],
    });
    this.primary = tool;
  }

  reset(): void {
    for (const vp of this.viewports()) vp.resetCamera();
    this.apply();
  }

  destroy(): void {
    this.abort.abort();
    this.resources.destroy();
    this.engine = null;
  }
}
