import type { Report, ReportContent } from "../../api/reports";

export const EMPTY_CONTENT: ReportContent = { history: "", findings: "", impression: "" };

export function contentOf(report: Report | null): ReportContent {
  return report
    ? {
        history: report.history,
        findings: report.findings,
        impression: report.impression,
      }
    : EMPTY_CONTENT;
}

export function isDirty(draft: ReportContent, report: Report | null): boolean {
  const saved = contentOf(report);
  return (
    draft.history !== saved.history ||
    draft.findings !== saved.findings ||
    draft.impression !== saved.impression
  );
}
