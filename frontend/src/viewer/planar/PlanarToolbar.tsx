import { useI18n } from "../../i18n/useI18n";
import type { MessageKey } from "../../i18n/messages";
import type { PlanarTool } from "./PlanarViewerController";
import { PRESET_IDS, type PresetId } from "./windowPresets";

const PRESET_KEYS: Record<PresetId, MessageKey> = {
  auto: "preset.auto",
  low: "preset.low",
  medium: "preset.medium",
  high: "preset.high",
};

const TOOL_KEYS: Record<PlanarTool, MessageKey> = {
  window: "viewer.tool.window",
  pan: "viewer.tool.pan",
  zoom: "viewer.tool.zoom",
};

interface Props {
  preset: PresetId;
  inverted: boolean;
  tool: PlanarTool;
  onPreset: (preset: PresetId) => void;
  onInvert: (inverted: boolean) => void;
  onTool: (tool: PlanarTool) => void;
  onReset: () => void;
}

export function PlanarToolbar(props: Props) {
  const { t } = useI18n();
  return (
    <div className="viewer-toolbar" role="toolbar">
      <span className="toolbar-label">{t("viewer.tool")}</span>
      {(Object.keys(TOOL_KEYS) as PlanarTool[]).map((tool) => (
        <button
          key={tool}
          type="button"
          className={props.tool === tool ? "btn active" : "btn"}
          aria-pressed={props.tool === tool}
          data-testid={`tool-${tool}`}
          onClick={() => props.onTool(tool)}
        >
          {t(TOOL_KEYS[tool])}
        </button>
      ))}
      <span className="toolbar-sep" />
      <span className="toolbar-label">{t("viewer.preset")}</span>
      {PRESET_IDS.map((id, index) => (
        <button
          key={id}
          type="button"
          className={props.preset === id ? "btn active" : "btn"}
          aria-pressed={props.preset === id}
          data-testid={`preset-${id}`}
          title={`${index + 1}`}
          onClick={() => props.onPreset(id)}
        >
          {t(PRESET_KEYS[id])}
        </button>
      ))}
      <span className="toolbar-sep" />
      <button
        type="button"
        className={props.inverted ? "btn active" : "btn"}
        aria-pressed={props.inverted}
        data-testid="invert"
        onClick={() => props.onInvert(!props.inverted)}
      >
        {t("viewer.invert")}
      </button>
      <button type="button" className="btn" data-testid="reset" onClick={props.onReset}>
        {t("viewer.reset")}
      </button>
    </div>
  );
}
