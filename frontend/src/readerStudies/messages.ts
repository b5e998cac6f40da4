import { ApiError } from "../api/ApiError";
import type { Language } from "../i18n/language";
import { useI18n } from "../i18n/useI18n";

/**
 * Strings of the reader-study screens, in both languages. Kept beside the
 * screens (not in the app's shared dictionary) so that they change together;
 * the app's language switch applies to them the same way.
 */
const en = {
  "nav.myReading": "My reading",
  "nav.readerStudies": "Reader studies",
  "my.title": "My reading",
  "my.none": "You have no reader study to read at the moment.",
  "my.session": "Session {number} of {total}",
  "my.progress": "{done} of {total} cases read",
  "my.next": "Read the next case",
  "my.sessionDone": "All sessions are complete. Thank you.",
  "my.washout": "Washout: the next session starts on {date}.",
  "my.waiting": "The next session is not open yet.",
  "my.paused": "This study is paused by its administrator.",
  "arm.unaided": "Without AI",
  "arm.aided": "With AI",
  "reading.case": "Case {position} of {total}",
  "reading.aiFrozen": "AI result (frozen for this study)",
  "reading.studyPaused":
    "The study admin has paused this study. Your answer stays on this screen and is saved when the study resumes; submitting waits until then.",
  "reading.studyClosed":
    "The study admin has closed this study: answers are no longer taken.",
  "reading.aiUnavailable": "The frozen AI result could not be loaded.",
  "reading.model": "Model {name} {version}",
  "answer.title": "Your answer",
  "answer.metastasis": "Bone metastasis present?",
  "answer.yes": "Yes",
  "answer.no": "No",
  "answer.confidence": "Confidence that metastasis is present: {value}",
  "answer.lesions": "Lesions",
  "answer.markBenign": "Mark benign",
  "answer.markMetastatic": "Mark metastatic",
  "answer.marking": "Click the lesion on the image for a point, or drag a box around it…",
  "answer.cancelMark": "Cancel",
  "answer.noLesions": "No lesions marked.",
  "answer.remove": "Remove",
  "answer.confirmAi": "Confirm",
  "answer.comment": "Comment (optional)",
  "answer.saving": "Saving…",
  "answer.saved": "Saved",
  "answer.submit": "Submit and go to the next case",
  "answer.submitting": "Submitting…",
  "answer.locked": "Submitted; the answer is locked.",
  "answer.incomplete":
    "Answer whether metastasis is present and set the confidence first.",
  "label.benign": "benign",
  "label.metastatic": "metastatic",
  "admin.title": "Reader studies",
  "admin.new": "New reader study",
  "admin.create": "Create",
  "admin.name": "Title",
  "admin.design": "Design",
  "admin.crossover": "Crossover (half the readers start with AI)",
  "admin.parallel": "Parallel",
  "admin.washout": "Washout (days)",
  "admin.textSource": "Text the AI is conditioned on",
  "admin.textHistory": "Clinical history / referral only",
  "admin.textReport": "Existing report",
  "admin.maxCase": "Longest plausible case view (s)",
  "admin.seed": "Seed",
  "admin.save": "Save",
  "admin.none": "No reader studies yet.",
  "admin.cases": "Cases",
  "admin.caseCount": "{count} cases",
  "admin.readerCount": "{count} readers",
  "admin.addCases": "Or study IDs, one per line",
  "admin.searchArchive": "Search the archive (accession, UID, description)",
  "admin.add": "Add",
  "admin.truth": "Ground truth",
  "admin.truthMissing": "missing",
  "admin.truthYes": "metastasis",
  "admin.truthNo": "no metastasis",
  "admin.fromSeg": "From SEG",
  "admin.importCsv": "Import ground truth (CSV)",
  "admin.import": "Import",
  "admin.imported": "{cases} cases and {lesions} lesions imported.",
  "admin.readers": "Readers",
  "admin.addReader": "Add reader (user name)",
  "admin.schedule": "Schedule",
  "admin.scheduleFrozen": "Frozen at the start",
  "admin.schedulePreview": "Preview (frozen when the study starts)",
  "admin.session": "Session {number}",
  "admin.ai": "Frozen AI",
  "admin.precompute": "Precompute AI",
  "admin.freeze": "Freeze finished results",
  "admin.aiProgress":
    "{succeeded} of {total} succeeded, {running} running, {queued} queued, {failed} failed; {frozen} frozen",
  "admin.state": "State",
  "admin.start": "Start",
  "admin.pause": "Pause",
  "admin.resume": "Resume",
  "admin.close": "Close",
  "admin.startProblems": "Cannot start yet:",
  "admin.progress": "Progress",
  "admin.reader": "Reader",
  "admin.arm": "Arm",
  "admin.done": "Done",
  "admin.time": "Active / open time",
  "admin.sessionState": "Session",
  "admin.startSession": "Start session now",
  "admin.overrideReason": "Reason to start before the washout ends",
  "admin.readings": "Readings",
  "admin.reopen": "Reopen",
  "admin.reopenReason": "Why reopen this case for the reader?",
  "admin.flags": "Flagged times",
  "admin.noFlags": "Nothing flagged.",
  "admin.rejected": "Refused events",
  "admin.back": "All reader studies",
  "admin.results": "Results: time, accuracy, MRMC",
  "state.draft": "draft",
  "state.open": "open",
  "state.paused": "paused",
  "state.closed": "closed",
  "session.waiting": "waiting",
  "session.washout": "washout",
  "session.ready": "ready",
  "session.active": "reading",
  "session.completed": "completed",
  "outbox.quarantined":
    "{count} reading-time event(s) were refused by the server and set aside; reading continues to be recorded.",
  "err.design_locked": "This setting cannot change after the study started.",
  "err.duplicate_reader": "This reader is already in the study.",
  "err.not_a_reader": "This user does not have the reader role.",
  "err.duplicate_case": "This study is already a case.",
  "err.missing_truth": "Some cases have no ground truth.",
  "err.missing_frozen_ai": "Some cases have no frozen AI result.",
  "err.no_cases": "The study has no cases.",
  "err.no_readers": "The study has no readers.",
  "err.not_draft": "Only a draft study can be changed this way.",
  "err.bad_state": "Not possible in the study's current state.",
  "err.washout": "The washout period is not over.",
  "err.study_paused": "The study is paused.",
  "err.not_next_case": "Cases are read in order; this is not your next case.",
  "err.answer_locked": "This answer is submitted and locked.",
  "err.answer_incomplete": "The answer is incomplete.",
  "err.csv_invalid": "The CSV file has errors.",
  "err.no_truth_seg": "This study has no ground-truth SEG.",
  "answer.point": "point",
  "answer.box": "box",
  "answer.makeBenign": "Change to benign",
  "answer.makeMetastatic": "Change to metastatic",
  "correct.title": "Correct a submitted answer",
  "correct.none": "No submitted answers yet.",
  "correct.edit": "Correct",
  "correct.reading": "{reader}, session {session}, case {position}",
  "correct.current": "Current answer",
  "correct.confidence": "Confidence (0–100)",
  "correct.reason": "Reason for the change (required; kept with the previous answer)",
  "correct.save": "Save the correction",
  "correct.cancel": "Close",
  "correct.saved": "Correction saved; the previous answer is kept in the history.",
  "correct.reasonRequired": "Enter the reason for the change.",
  "correct.unchanged": "Nothing was changed.",
  "correct.confidenceRange": "The confidence must be a whole number from 0 to 100.",
  "correct.history": "History (previous answers)",
  "correct.noHistory": "No earlier answers: this is the reader's submitted answer.",
  "correct.kind.admin_change": "Changed by the study admin",
  "correct.kind.reopen": "Reopened for the reader",
  "correct.by": "{who}, {when}",
  "correct.summary":
    "Metastasis: {metastasis}; confidence {confidence}; {lesions} lesion(s)",
  "err.reason_required": "A reason is required.",
  "err.invalid": "The input is invalid.",
  "err.detail": "{message}",
} as const;

export type RsKey = keyof typeof en;

const zh: Record<RsKey, string> = {
  "nav.myReading": "我的阅片",
  "nav.readerStudies": "阅片研究",
  "my.title": "我的阅片",
  "my.none": "目前没有需要您阅片的研究。",
  "my.session": "第 {number} 轮（共 {total} 轮）",
  "my.progress": "已阅 {done} / {total} 例",
  "my.next": "阅读下一例",
  "my.sessionDone": "所有阅片轮次已完成，谢谢。",
  "my.washout": "洗脱期：下一轮于 {date} 开始。",
  "my.waiting": "下一轮尚未开放。",
  "my.paused": "研究管理员已暂停本研究。",
  "arm.unaided": "无 AI",
  "arm.aided": "有 AI 辅助",
  "reading.case": "第 {position} 例（共 {total} 例）",
  "reading.aiFrozen": "AI 结果（本研究固定版本）",
  "reading.studyPaused":
    "研究管理员已暂停本研究。您的答案保留在此页面，研究恢复后自动保存；恢复前无法提交。",
  "reading.studyClosed": "研究管理员已关闭本研究，不再接收答案。",
  "reading.aiUnavailable": "无法加载固定的 AI 结果。",
  "reading.model": "模型 {name} {version}",
  "answer.title": "您的判读",
  "answer.metastasis": "是否存在骨转移？",
  "answer.yes": "是",
  "answer.no": "否",
  "answer.confidence": "存在转移的把握度：{value}",
  "answer.lesions": "病灶",
  "answer.markBenign": "标记良性",
  "answer.markMetastatic": "标记转移",
  "answer.marking": "请在图像上点击病灶（点），或拖出方框框住病灶…",
  "answer.cancelMark": "取消",
  "answer.noLesions": "尚未标记病灶。",
  "answer.remove": "删除",
  "answer.confirmAi": "确认",
  "answer.comment": "备注（可选）",
  "answer.saving": "正在保存…",
  "answer.saved": "已保存",
  "answer.submit": "提交并进入下一例",
  "answer.submitting": "正在提交…",
  "answer.locked": "已提交，判读已锁定。",
  "answer.incomplete": "请先回答是否存在转移并设置把握度。",
  "label.benign": "良性",
  "label.metastatic": "转移",
  "admin.title": "阅片研究",
  "admin.new": "新建阅片研究",
  "admin.create": "创建",
  "admin.name": "标题",
  "admin.design": "设计",
  "admin.crossover": "交叉设计（一半阅片者先用 AI）",
  "admin.parallel": "平行设计",
  "admin.washout": "洗脱期（天）",
  "admin.textSource": "AI 使用的文本",
  "admin.textHistory": "仅临床病史/申请单",
  "admin.textReport": "已有报告",
  "admin.maxCase": "单例最长合理阅片时间（秒）",
  "admin.seed": "随机种子",
  "admin.save": "保存",
  "admin.none": "还没有阅片研究。",
  "admin.cases": "病例",
  "admin.caseCount": "{count} 例",
  "admin.readerCount": "{count} 名阅片者",
  "admin.addCases": "或输入检查 ID，每行一个",
  "admin.searchArchive": "检索归档（检查号、UID、描述）",
  "admin.add": "添加",
  "admin.truth": "金标准",
  "admin.truthMissing": "缺失",
  "admin.truthYes": "有转移",
  "admin.truthNo": "无转移",
  "admin.fromSeg": "取自 SEG",
  "admin.importCsv": "导入金标准（CSV）",
  "admin.import": "导入",
  "admin.imported": "已导入 {cases} 例、{lesions} 个病灶。",
  "admin.readers": "阅片者",
  "admin.addReader": "添加阅片者（用户名）",
  "admin.schedule": "阅片顺序",
  "admin.scheduleFrozen": "已于开始时固定",
  "admin.schedulePreview": "预览（研究开始时固定）",
  "admin.session": "第 {number} 轮",
  "admin.ai": "固定的 AI 结果",
  "admin.precompute": "预先计算 AI",
  "admin.freeze": "固定已完成的结果",
  "admin.aiProgress":
    "{total} 例中 {succeeded} 例完成，{running} 例运行中，{queued} 例排队，{failed} 例失败；已固定 {frozen} 例",
  "admin.state": "状态",
  "admin.start": "开始",
  "admin.pause": "暂停",
  "admin.resume": "继续",
  "admin.close": "结束",
  "admin.startProblems": "尚不能开始：",
  "admin.progress": "进度",
  "admin.reader": "阅片者",
  "admin.arm": "组别",
  "admin.done": "已完成",
  "admin.time": "有效 / 打开时间",
  "admin.sessionState": "轮次",
  "admin.startSession": "立即开始本轮",
  "admin.overrideReason": "洗脱期未满提前开始的理由",
  "admin.readings": "阅片记录",
  "admin.reopen": "重新开放",
  "admin.reopenReason": "为何为该阅片者重新开放此病例？",
  "admin.flags": "被标记的时间",
  "admin.noFlags": "没有被标记的记录。",
  "admin.rejected": "被拒绝的事件",
  "admin.back": "全部阅片研究",
  "admin.results": "结果：阅片时间、准确性、MRMC",
  "state.draft": "草稿",
  "state.open": "进行中",
  "state.paused": "已暂停",
  "state.closed": "已结束",
  "session.waiting": "等待中",
  "session.washout": "洗脱期",
  "session.ready": "可开始",
  "session.active": "阅片中",
  "session.completed": "已完成",
  "outbox.quarantined": "{count} 个阅片计时事件被服务器拒绝，已单独保存；计时继续记录。",
  "err.design_locked": "研究开始后不能修改此设置。",
  "err.duplicate_reader": "该阅片者已在研究中。",
  "err.not_a_reader": "该用户没有阅片者角色。",
  "err.duplicate_case": "该检查已是病例。",
  "err.missing_truth": "部分病例缺少金标准。",
  "err.missing_frozen_ai": "部分病例缺少固定的 AI 结果。",
  "err.no_cases": "研究中没有病例。",
  "err.no_readers": "研究中没有阅片者。",
  "err.not_draft": "只有草稿状态的研究可以这样修改。",
  "err.bad_state": "研究当前状态下不能执行此操作。",
  "err.washout": "洗脱期尚未结束。",
  "err.study_paused": "研究已暂停。",
  "err.not_next_case": "病例须按顺序阅读，这不是您的下一例。",
  "err.answer_locked": "该判读已提交并锁定。",
  "err.answer_incomplete": "判读不完整。",
  "err.csv_invalid": "CSV 文件有错误。",
  "err.no_truth_seg": "该检查没有金标准 SEG。",
  "answer.point": "点",
  "answer.box": "方框",
  "answer.makeBenign": "改为良性",
  "answer.makeMetastatic": "改为转移",
  "correct.title": "更正已提交的判读",
  "correct.none": "还没有已提交的判读。",
  "correct.edit": "更正",
  "correct.reading": "{reader}，第 {session} 轮，第 {position} 例",
  "correct.current": "当前判读",
  "correct.confidence": "把握度（0–100）",
  "correct.reason": "更正理由（必填，与原判读一同保存）",
  "correct.save": "保存更正",
  "correct.cancel": "关闭",
  "correct.saved": "更正已保存；原判读保留在修订记录中。",
  "correct.reasonRequired": "请填写更正理由。",
  "correct.unchanged": "判读没有任何改动。",
  "correct.confidenceRange": "把握度必须是 0 到 100 的整数。",
  "correct.history": "修订记录（原判读）",
  "correct.noHistory": "没有更早的判读：这是阅片者提交的判读。",
  "correct.kind.admin_change": "研究管理员更正",
  "correct.kind.reopen": "为阅片者重新开放",
  "correct.by": "{who}，{when}",
  "correct.summary": "转移：{metastasis}；把握度 {confidence}；病灶 {lesions} 个",
  "err.reason_required": "必须填写理由。",
  "err.invalid": "输入无效。",
  "err.detail": "{message}",
};

const DICTS: Record<Language, Record<RsKey, string>> = { en, zh };

export type RsTranslate = (
  key: RsKey,
  params?: Record<string, string | number>,
) => string;

export function rsTranslate(
  lang: Language,
  key: RsKey,
  params?: Record<string, string | number>,
): string {
  const template = DICTS[lang][key];
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (match, name: string) =>
    name in params ? String(params[name]) : match,
  );
}

/** The reader-study strings in the app's current language. */
export function useRsI18n(): { tr: RsTranslate; lang: Language } {
  const { lang } = useI18n();
  return { tr: (key, params) => rsTranslate(lang, key, params), lang };
}

function isRsKey(key: string): key is RsKey {
  return key in en;
}

/**
 * A server error in the user's language: the stable `extra.code` names the
 * sentence; the server's own message (which names the field, the case or the
 * date) follows it. CSV errors list their rows.
 */
export function rsErrorText(error: unknown, tr: RsTranslate): string {
  if (!(error instanceof ApiError)) {
    return error instanceof Error ? error.message : String(error);
  }
  // Reader-study services put their code in `extra.code`; the API's own refusals (field
  // validation, permissions) carry it at the top level.
  const code =
    typeof error.extra.code === "string" ? error.extra.code : (error.code ?? "");
  const key = `err.${code}`;
  const lines: string[] = [];
  if (code && isRsKey(key)) lines.push(tr(key));
  if (error.message && !error.message.startsWith("HTTP ")) lines.push(error.message);
  const rows = error.extra.errors;
  if (Array.isArray(rows)) {
    for (const row of rows.slice(0, 20)) {
      if (typeof row === "object" && row !== null) {
        const r = row as Record<string, unknown>;
        lines.push(
          `#${String(r.row ?? "?")} ${String(r.column ?? "")}: ${String(r.message ?? "")}`,
        );
      }
    }
  }
  const problems = error.extra.problems;
  if (Array.isArray(problems)) {
    for (const p of problems.slice(0, 20)) {
      if (typeof p === "object" && p !== null) {
        lines.push(String((p as Record<string, unknown>).message ?? ""));
      }
    }
  }
  return lines.length > 0 ? lines.join(" — ") : `HTTP ${error.status}`;
}
