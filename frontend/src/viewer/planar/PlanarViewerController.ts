import {
  Enums as CoreEnums,
  utilities,
  type RenderingEngine,
  type Types,
} from "@cornerstonejs/core";
import {
  Enums as ToolEnums,
  PanTool,
  WindowLevelTool,
  ZoomTool,
  addTool,
  synchronizers,
} from "@cornerstonejs/tools";
import { initCornerstone } from "../../lib/cornerstone/init";
import { ViewerResources } from "../../lib/cornerstone/ViewerResources";
import { LabelmapCanvasOverlay } from "../overlay/LabelmapCanvasOverlay";
import { DEFAULT_OVERLAY_STYLE, type OverlayStyle } from "../overlay/overlayStyle";
import type { PlanarViews } from "./planarViews";
import { countStats, presetVoi, type CountStats, type PresetId } from "./windowPresets";

export type PlanarTool = "window" | "pan" | "zoom";
export type ViewName = "anterior" | "posterior";

const TOOL_NAMES: Record<PlanarTool, string> = {
  window: WindowLevelTool.toolName,
  pan: PanTool.toolName,
  zoom: ZoomTool.toolName,
};

const { MouseBindings } = ToolEnums;

/** A stack viewport's background, on the GPU renderer and for CPU rendering alike. */
function setBackground(vp: Types.IStackViewport, rgb: Types.Point3): void {
  vp.setOptions({ ...vp.options, background: rgb });
  vp.defaultOptions.background = rgb;
  try {
    vp.getRenderer()?.setBackground(rgb[0], rgb[1], rgb[2]);
  } catch {
    // CPU rendering has no vtk renderer: the options above are what it reads.
  }
}

/**
 * Owns the two StackViewports (anterior, posterior) of a planar bone scan,
 * their tool group and the synchronizers that link zoom/pan and window
 * between them. Not a React component: the screen creates one per case and
 * calls destroy() when it leaves, which removes everything it made.
 */
export class PlanarViewerController {
  private readonly resources = new ViewerResources("planar");
  private engine: RenderingEngine | null = null;
  private readonly viewportIds: Record<ViewName, string> = {
    anterior: this.resources.id("anterior"),
    posterior: this.resources.id("posterior"),
  };
  private readonly mounted: ViewName[] = [];
  private readonly stats = new Map<ViewName, CountStats>();
  private readonly overlays = new Map<ViewName, LabelmapCanvasOverlay>();
  private labels: {
    frames: Partial<Record<ViewName, Uint8Array>>;
    rows: number;
    cols: number;
  } | null = null;
  private overlayStyle: OverlayStyle = DEFAULT_OVERLAY_STYLE;
  private primaryTool: PlanarTool = "window";
  private preset: PresetId = "auto";
  private inverted = true;

  get isDestroyed(): boolean {
    return this.resources.isDestroyed;
  }

  /** Creates the viewports and loads both views. Resolves false when destroyed meanwhile. */
  async mount(
    elements: Record<ViewName, HTMLDivElement | null>,
    views: PlanarViews,
    onFirstRender?: () => void,
  ): Promise<boolean> {
    await initCornerstone();
    if (this.isDestroyed) return false;

    const engine = this.resources.createRenderingEngine();
    this.engine = engine;
    const inputs: Types.PublicViewportInput[] = [];
    for (const view of ["anterior", "posterior"] as const) {
      const element = elements[view];
      if (views[view] === null || element === null) continue;
      this.mounted.push(view);
      inputs.push({
        viewportId: this.viewportIds[view],
        type: CoreEnums.ViewportType.STACK,
        element,
        defaultOptions: { background: [1, 1, 1] },
      });
    }
    engine.setViewports(inputs);
    performance.mark("boneread:planar-viewports-created");
    this.setUpTools();
    this.setUpSynchronizers();
    this.resources.watchResize(
      this.mounted.map((view) => elements[view]),
      () => this.engine?.resize(true, true),
    );
    const first = this.mounted[0];
    if (onFirstRender && first)
      this.resources.afterNextRender(elements[first], onFirstRender);

    // Each view gets its window and grey scale as soon as its image is in, before the
    // frame that draws it: never a frame in Cornerstone's default window first.
    await Promise.all(
      this.mounted.map(async (view) => {
        const imageId = views[view];
        const vp = this.viewport(view);
        if (imageId === null || !vp) return;
        await vp.setStack([imageId]);
        if (this.isDestroyed) return;
        this.stats.set(view, countStats(vp.getCornerstoneImage().getPixelData()));
        this.applyDisplay([view]);
      }),
    );
    if (this.isDestroyed) return false;
    performance.mark("boneread:planar-images-loaded");
    this.createOverlays();
    return true;
  }

  private createOverlays(): void {
    for (const view of this.mounted) {
      const vp = this.viewport(view);
      if (!vp) continue;
      const overlay = new LabelmapCanvasOverlay(vp, vp.element);
      this.overlays.set(view, overlay);
      this.resources.onDestroy(() => overlay.destroy());
    }
    this.applyOverlay();
  }

  private applyOverlay(): void {
    for (const [view, overlay] of this.overlays) {
      const frame = this.labels?.frames[view] ?? null;
      overlay.setStyle(this.overlayStyle);
      overlay.setLabels(frame, this.labels?.rows ?? 0, this.labels?.cols ?? 0);
    }
  }

  /** The AI label map, one frame per view in the stored images' pixels (null clears it). */
  setLabelmap(
    labels: {
      frames: Partial<Record<ViewName, Uint8Array>>;
      rows: number;
      cols: number;
    } | null,
  ): void {
    this.labels = labels;
    this.applyOverlay();
  }

  setOverlayStyle(style: OverlayStyle): void {
    this.overlayStyle = style;
    for (const overlay of this.overlays.values()) overlay.setStyle(style);
  }

  /**
   * Centres each view on its own position of a lesion. The posterior view is
   * stored as acquired (mirrored), so the same pan would show the wrong side:
   * zoom/pan linking is paused while both cameras are set. With `markerRadius`
   * (a finding without an outline: one the model held back) a ring of that
   * radius (pixels) goes round it in each view; without, any ring goes.
   */
  focusOnLesion(
    targets: Partial<Record<ViewName, { row: number; col: number }>>,
    markerRadius: number | null = null,
  ): void {
    this.zoomPan?.setEnabled(false);
    try {
      for (const view of this.mounted) {
        const target = targets[view];
        if (target) this.focusOn(view, target.row, target.col);
        this.overlays
          .get(view)
          ?.setMarker(
            target && markerRadius !== null
              ? { row: target.row, col: target.col, radius: markerRadius }
              : null,
          );
      }
    } finally {
      this.zoomPan?.setEnabled(true);
    }
  }

  /** Centres `view` on a pixel (row, col) and zooms in so the lesion fills part of the view. */
  focusOn(view: ViewName, row: number, col: number, sizePx = 40): void {
    const vp = this.viewport(view);
    const imageId = vp?.getCurrentImageId();
    if (!vp || !imageId) return;
    const world = utilities.imageToWorldCoords(imageId, [col + 0.5, row + 0.5]);
    if (!world) return;
    const camera = vp.getCamera();
    const focal = camera.focalPoint;
    const position = camera.position;
    if (!focal || !position) return;
    const delta = [world[0] - focal[0], world[1] - focal[1], world[2] - focal[2]];
    const spacing = vp.getImageData()?.spacing?.[0] ?? 1;
    const scale = Math.max(sizePx * spacing * 2, 20);
    vp.setCamera({
      focalPoint: world,
      position: [
        position[0] + (delta[0] ?? 0),
        position[1] + (delta[1] ?? 0),
        position[2] + (delta[2] ?? 0),
      ],
      parallelScale: Math.min(camera.parallelScale ?? scale, scale),
    });
    vp.render();
  }

  private viewport(view: ViewName): Types.IStackViewport | null {
    if (!this.engine || this.isDestroyed) return null;
    const vp = this.engine.getViewport<Types.IStackViewport | undefined>(
      this.viewportIds[view],
    );
    return vp ?? null;
  }

  private setUpTools(): void {
    addTool(WindowLevelTool);
    addTool(PanTool);
    addTool(ZoomTool);
    const group = this.resources.createToolGroup("tools");
    group.addTool(WindowLevelTool.toolName);
    group.addTool(PanTool.toolName);
    group.addTool(ZoomTool.toolName);
    group.setToolActive(WindowLevelTool.toolName, {
      bindings: [{ mouseButton: MouseBindings.Primary }],
    });
    group.setToolActive(PanTool.toolName, {
      bindings: [{ mouseButton: MouseBindings.Auxiliary }],
    });
    group.setToolActive(ZoomTool.toolName, {
      bindings: [
        { mouseButton: MouseBindings.Secondary },
        { mouseButton: MouseBindings.Wheel },
      ],
    });
    const engineId = this.engine?.id;
    for (const view of this.mounted) group.addViewport(this.viewportIds[view], engineId);
    this.toolGroupId = group.id;
  }

  private toolGroupId: string | null = null;
  private zoomPan: { setEnabled: (enabled: boolean) => void } | null = null;

  private setUpSynchronizers(): void {
    const engineId = this.engine?.id;
    if (!engineId || this.mounted.length < 2) return;
    const zoomPan = synchronizers.createZoomPanSynchronizer(this.resources.id("zoompan"));
    const voi = synchronizers.createVOISynchronizer(this.resources.id("voi"), {
      syncInvertState: true,
      syncColormap: false,
    });
    this.resources.trackSynchronizer(zoomPan.id);
    this.zoomPan = zoomPan;
    this.resources.trackSynchronizer(voi.id);
    for (const view of this.mounted) {
      const info = { renderingEngineId: engineId, viewportId: this.viewportIds[view] };
      zoomPan.add(info);
      voi.add(info);
    }
  }

  private applyDisplay(views: readonly ViewName[] = this.mounted): void {
    for (const view of views) {
      const vp = this.viewport(view);
      const stats = this.stats.get(view);
      if (!vp || !stats) continue;
      vp.setProperties({
        voiRange: presetVoi(this.preset, stats),
        invert: this.inverted,
      });
      // Around the image the viewport shows its background: the colour of zero
      // counts in the chosen grey scale (white inverted, black otherwise), never bars.
      setBackground(vp, this.inverted ? [1, 1, 1] : [0, 0, 0]);
      vp.render();
    }
  }

  setPreset(preset: PresetId): void {
    this.preset = preset;
    this.applyDisplay();
  }

  setInverted(inverted: boolean): void {
    this.inverted = inverted;
    this.applyDisplay();
  }

  setPrimaryTool(tool: PlanarTool): void {
    if (tool === this.primaryTool || this.toolGroupId === null) return;
    const group = this.resources.toolGroup(this.toolGroupId);
    if (!group) return;
    group.setToolPassive(TOOL_NAMES[this.primaryTool]);
    group.setToolActive(TOOL_NAMES[tool], {
      bindings: [{ mouseButton: MouseBindings.Primary }],
    });
    this.primaryTool = tool;
  }

  /** Back to fitted images, the chosen preset's window and the chosen grey scale. */
  reset(): void {
    for (const view of this.mounted) this.viewport(view)?.resetCamera();
    this.applyDisplay();
  }

  destroy(): void {
    this.resources.destroy();
    this.engine = null;
  }
}
