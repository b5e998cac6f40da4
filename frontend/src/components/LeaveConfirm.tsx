import { useEffect, useRef } from "react";
import { useI18n } from "../i18n/useI18n";
import { usePendingLeave } from "../router/useLeaveGuard";

/** The in-app "discard unsaved report text?" question; "stay" is the default answer. */
export function LeaveConfirm() {
  const { t } = useI18n();
  const pending = usePendingLeave();
  const stayRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!pending) return;
    stayRef.current?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "Escape") return;
      event.stopPropagation();
      pending.stay();
    };
    window.addEventListener("keydown", onKey, true);
    return () => window.removeEventListener("keydown", onKey, true);
  }, [pending]);

  if (!pending) return null;
  return (
    <div className="modal-backdrop">
      <div
        className="modal"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="leave-title"
        aria-describedby="leave-body"
        data-testid="leave-confirm"
      >
        <h2 id="leave-title">{t("leave.title")}</h2>
        <p id="leave-body">{t("leave.body")}</p>
        <div className="modal-actions">
          <button
            type="button"
            className="btn btn-primary"
            ref={stayRef}
            data-testid="leave-stay"
            onClick={pending.stay}
          >
            {t("leave.stay")}
          </button>
          <button
            type="button"
            className="btn"
            data-testid="leave-discard"
            onClick={pending.proceed}
          >
            {t("leave.discard")}
          </button>
        </div>
      </div>
    </div>
  );
}
