import type { AiStatus, ReportStatus } from "../api/studies";
import { useI18n } from "../i18n/useI18n";
import type { MessageKey } from "../i18n/messages";

const REPORT_KEYS: Record<ReportStatus | "none", MessageKey> = {
  none: "report.none",
  draft: "report.draft",
  signed: "report.signed",
};

const AI_KEYS: Record<AiStatus | "none", MessageKey> = {
  none: "ai.none",
  queued: "ai.queued",
  running: "ai.running",
  succeeded: "ai.succeeded",
  failed: "ai.failed",
  cancelled: "ai.cancelled",
};

export function ReportChip({ status }: { status: ReportStatus | null }) {
  const { t } = useI18n();
  const key = status ?? "none";
  return (
    <span className={`chip chip-report-${key}`} data-status={key}>
      {t(REPORT_KEYS[key] ?? "report.none")}
    </span>
  );
}

export function AiChip({ status }: { status: AiStatus | null }) {
  const { t } = useI18n();
  const key = status ?? "none";
  return (
    <span className={`chip chip-ai-${key}`} data-status={key}>
      {t(AI_KEYS[key] ?? "ai.none")}
    </span>
  );
}
