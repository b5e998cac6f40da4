import { useI18n } from "../../i18n/useI18n";
import {
  cssColor,
  LABEL_BENIGN,
  LABEL_METASTATIC,
  type OverlayStyle,
} from "../overlay/overlayStyle";

interface Props {
  style: OverlayStyle;
  onStyle: (style: OverlayStyle) => void;
  /** Lesions per class of the AI result; null for a SEG without a lesion list. */
  counts: Record<string, number> | null;
}

/** Show/hide, per-class toggles with the legend, outline and opacity of the overlay. */
export function OverlayControls({ style, onStyle, counts }: Props) {
  const { t } = useI18n();
  const classKey = (name: string) =>
    name === "metastatic" ? "ai.class.metastatic" : ("ai.class.benign" as const);
  return (
    <>
      <label className="check">
        <input
          type="checkbox"
          data-testid="overlay-visible"
          checked={style.visible}
          onChange={(e) => onStyle({ ...style, visible: e.target.checked })}
        />
        {t("ai.overlay")}
      </label>
      <div className="legend">
        {(
          [
            ["benign", LABEL_BENIGN],
            ["metastatic", LABEL_METASTATIC],
          ] as const
        ).map(([name, label]) => (
          <label className="check" key={name}>
            <input
              type="checkbox"
              data-testid={`overlay-class-${name}`}
              checked={style.classes[name]}
              onChange={(e) =>
                onStyle({
                  ...style,
                  classes: { ...style.classes, [name]: e.target.checked },
                })
              }
            />
            <span className="swatch" style={{ background: cssColor(label) }} />
            {t(classKey(name))}
            {counts && <span className="muted"> {counts[name] ?? 0}</span>}
          </label>
        ))}
      </div>
      <label className="check">
        <input
          type="checkbox"
          data-testid="overlay-outline"
          checked={style.outline}
          onChange={(e) => onStyle({ ...style, outline: e.target.checked })}
        />
        {t("ai.outline")}
      </label>
      <label className="field">
        <span>{t("ai.opacity")}</span>
        <input
          type="range"
          min={0.1}
          max={1}
          step={0.05}
          value={style.opacity}
          data-testid="overlay-opacity"
          onChange={(e) => onStyle({ ...style, opacity: Number(e.target.value) })}
        />
      </label>
    </>
  );
}
