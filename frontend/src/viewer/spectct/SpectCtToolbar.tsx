import { useI18n } from "../../i18n/useI18n";
import type { MessageKey } from "../../i18n/messages";
import type { CtPresetId, FusionMode } from "./fusionSettings";
import type { PrimaryVolumeTool } from "./SpectCtController";

const MODE_KEYS: Record<FusionMode, MessageKey> = {
  fused: "spect.mode.fused",
  ct: "spect.mode.ct",
  spect: "spect.mode.spect",
};

const CT_KEYS: Record<CtPresetId, MessageKey> = {
  softTissue: "spect.ct.softTissue",
  bone: "spect.ct.bone",
};

const TOOL_KEYS: Record<PrimaryVolumeTool, MessageKey> = {
  crosshairs: "spect.tool.crosshairs",
  window: "viewer.tool.window",
};

export interface SpectCtSettings {
  mode: FusionMode;
  opacity: number;
  spectLevel: number;
  ctPreset: CtPresetId;
  tool: PrimaryVolumeTool;
}

interface Props {
  settings: SpectCtSettings;
  onChange: (next: Partial<SpectCtSettings>) => void;
  onReset: () => void;
}

export function SpectCtToolbar({ settings, onChange, onReset }: Props) {
  const { t } = useI18n();
  return (
    <div className="viewer-toolbar" role="toolbar">
      <span className="toolbar-label">{t("viewer.tool")}</span>
      {(Object.keys(TOOL_KEYS) as PrimaryVolumeTool[]).map((tool) => (
        <button
          key={tool}
          type="button"
          className={settings.tool === tool ? "btn active" : "btn"}
          aria-pressed={settings.tool === tool}
          data-testid={`tool-${tool}`}
          onClick={() => onChange({ tool })}
        >
          {t(TOOL_KEYS[tool])}
        </button>
      ))}
      <span className="toolbar-sep" />
      <span className="toolbar-label">{t("spect.mode")}</span>
      {(Object.keys(MODE_KEYS) as FusionMode[]).map((mode) => (
        <button
          key={mode}
          type="button"
          className={settings.mode === mode ? "btn active" : "btn"}
          aria-pressed={settings.mode === mode}
          data-testid={`fusion-${mode}`}
          onClick={() => onChange({ mode })}
        >
          {t(MODE_KEYS[mode])}
        </button>
      ))}
      <span className="toolbar-sep" />
      <label className="toolbar-range">
        <span className="toolbar-label">{t("spect.opacity")}</span>
        <input
          type="range"
          min={0}
          max={1}
          step={0.05}
          value={settings.opacity}
          data-testid="spect-opacity"
          onChange={(e) => onChange({ opacity: Number(e.target.value) })}
        />
      </label>
      <label className="toolbar-range">
        <span className="toolbar-label">{t("spect.level")}</span>
        <input
          type="range"
          min={0.1}
          max={1.5}
          step={0.05}
          value={settings.spectLevel}
          data-testid="spect-level"
          onChange={(e) => onChange({ spectLevel: Number(e.target.value) })}
        />
      </label>
      <span className="toolbar-sep" />
      <span className="toolbar-label">{t("spect.ctWindow")}</span>
      {(Object.keys(CT_KEYS) as CtPresetId[]).map((preset) => (
        <button
          key={preset}
          type="button"
          className={settings.ctPreset === preset ? "btn active" : "btn"}
          aria-pressed={settings.ctPreset === preset}
          onClick={() => onChange({ ctPreset: preset })}
        >
          {t(CT_KEYS[preset])}
        </button>
      ))}
      <span className="toolbar-sep" />
      <button type="button" className="btn" data-testid="reset" onClick={onReset}>
        {t("viewer.reset")}
      </button>
    </div>
  );
}
