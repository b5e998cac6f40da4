import { useI18n } from "../i18n/useI18n";
import type { MessageKey } from "../i18n/messages";
import { SHORTCUTS } from "./shortcuts";

function keyLabel(key: string): string {
  return key.length === 1 ? key.toUpperCase() : key;
}

/**
 * The help panel, built from the same table that handles the keys. The mouse
 * line follows the viewer: the planar wheel zooms, the SPECT/CT wheel scrolls slices.
 */
export function ShortcutsHelp({
  onClose,
  volume = false,
}: {
  onClose: () => void;
  volume?: boolean;
}) {
  const { t } = useI18n();
  const rows = new Map<MessageKey, string[]>();
  for (const s of SHORTCUTS) rows.set(s.label, [...(rows.get(s.label) ?? []), ...s.keys]);
  return (
    <div className="shortcuts-help" role="dialog" aria-label={t("shortcuts.title")}>
      <div className="shortcuts-help-head">
        <h2>{t("shortcuts.title")}</h2>
        <button type="button" className="btn btn-ghost" onClick={onClose}>
          {t("common.close")}
        </button>
      </div>
      <table>
        <tbody>
          {[...rows.entries()].map(([label, keys]) => (
            <tr key={label}>
              <td>
                {keys.map((k) => (
                  <kbd key={k}>{keyLabel(k)}</kbd>
                ))}
              </td>
              <td>{t(label)}</td>
            </tr>
          ))}
          <tr>
            <td>
              <kbd>Esc</kbd>
            </td>
            <td>{t("common.close")}</td>
          </tr>
        </tbody>
      </table>
      <p className="shortcuts-mouse" data-testid="shortcuts-mouse">
        {t(volume ? "shortcuts.mouseVolume" : "shortcuts.mouse")}
      </p>
    </div>
  );
}
