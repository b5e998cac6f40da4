import { ApiError } from "../api/ApiError";
import type { Language } from "../i18n/language";

/** The sample-size panel's strings, in both languages, and its error codes' sentences. */
const en = {
  title: "Sample size planning",
  intro:
    "How many readers and cases the new study needs to show an AUC difference (Obuchowski-Rockette, Hillis) or a reading-time ratio (simulated from the pilot's mixed model) at the chosen power.",
  source: "Variance components from",
  sourcePilot: "a finished pilot study",
  sourceValues: "values I enter",
  pilot: "Pilot study",
  choosePilot: "Choose a study…",
  notFinished: "not finished: {done} of {expected} readings",
  noPilots: "You administer no reader study yet.",
  aucDifference: "AUC difference to detect (empty: none)",
  timeRatio: "Time ratio with / without AI to detect (empty: none)",
  power: "Power",
  alpha: "Significance level (two-sided)",
  readers: "Numbers of readers (e.g. 4,6,8,10 or 4-8)",
  nSim: "Simulated studies per design (time)",
  aucComponents: "AUC: OR variance components of a pilot",
  timeComponents: "Time: variance components of log time",
  compute: "Compute",
  computing: "Computing… (the time table simulates studies; this can take a minute)",
  aucTable: "AUC difference {effect}: cases needed",
  timeTable: "Time ratio {ratio}: cases needed",
  readersCol: "Readers",
  casesCol: "Cases",
  powerCol: "Power",
  simPowerCol: "Simulated power (± SE)",
  approxPowerCol: "t approximation",
  unreachable: "more than {max}",
  pilotLine:
    "Pilot: {title}, {readers} readers, {cases} cases; observed AUC difference {auc}, time ratio {ratio}.",
  badReaders: "Give the numbers of readers as a list (4,6,8) or a range (4-8).",
  "err.samplesize_bad_power":
    "The power must be above the significance level ({alpha}) and below 1.",
  "err.samplesize_bad_alpha": "The significance level must be above 0 and at most 0.2.",
  "err.samplesize_no_target":
    "Give the AUC difference or the time ratio to detect (or both).",
  "err.samplesize_bad_auc_difference":
    "The AUC difference must be between 0 and 1 and not 0.",
  "err.samplesize_bad_time_ratio": "The time ratio must be positive, below 10 and not 1.",
  "err.samplesize_not_a_number": "{field} must be a number.",
  "err.samplesize_bad_readers":
    "Give 1 to {max_rows} numbers of readers, each from 2 to 100.",
  "err.samplesize_bad_n_sim":
    "Simulated studies per design: a whole number from 20 to 500.",
  "err.samplesize_bad_source": "Choose where the variance components come from.",
  "err.samplesize_bad_time_measure": "Unknown time measure.",
  "err.samplesize_no_pilot": "Choose the finished pilot study.",
  "err.samplesize_pilot_not_finished":
    "The pilot study is not finished: {done} of {expected} readings submitted.",
  "err.samplesize_pilot_no_auc":
    "The pilot study has no MRMC analysis of the AUC to plan from.",
  "err.samplesize_pilot_no_time":
    "The pilot study has no reading-time model to plan from.",
  "err.samplesize_missing_components": "Enter every variance component: {fields}.",
  "err.samplesize_bad_components":
    "The pilot's number of cases must be a whole number of at least 2.",
  "err.samplesize_invalid": "These values cannot be planned from: {reason}.",
} as const;

export type SsKey = keyof typeof en;

const zh: Record<SsKey, string> = {
  title: "样本量估算",
  intro:
    "新研究需要多少阅片者和病例，才能以所选检验效能显示AUC差异（Obuchowski-Rockette，Hillis法）或阅片时间比值（按预试验混合模型模拟）。",
  source: "方差成分来自",
  sourcePilot: "已完成的预试验研究",
  sourceValues: "手动输入",
  pilot: "预试验研究",
  choosePilot: "选择研究…",
  notFinished: "未完成：{done}/{expected} 次阅片",
  noPilots: "您尚未管理任何阅片研究。",
  aucDifference: "要检测的AUC差异（留空：不计算）",
  timeRatio: "要检测的时间比值 有AI/无AI（留空：不计算）",
  power: "检验效能",
  alpha: "显著性水平（双侧）",
  readers: "阅片者人数（如 4,6,8,10 或 4-8）",
  nSim: "每种设计的模拟研究数（时间）",
  aucComponents: "AUC：预试验的OR方差成分",
  timeComponents: "时间：对数时间的方差成分",
  compute: "计算",
  computing: "计算中…（时间表需模拟研究，可能需要一分钟）",
  aucTable: "AUC差异 {effect}：所需病例数",
  timeTable: "时间比值 {ratio}：所需病例数",
  readersCol: "阅片者",
  casesCol: "病例数",
  powerCol: "检验效能",
  simPowerCol: "模拟检验效能（± 标准误）",
  approxPowerCol: "t近似",
  unreachable: "超过 {max}",
  pilotLine:
    "预试验：{title}，{readers} 位阅片者，{cases} 例病例；观察到的AUC差异 {auc}，时间比值 {ratio}。",
  badReaders: "阅片者人数请填写列表（4,6,8）或范围（4-8）。",
  "err.samplesize_bad_power": "检验效能必须大于显著性水平（{alpha}）且小于1。",
  "err.samplesize_bad_alpha": "显著性水平必须大于0且不超过0.2。",
  "err.samplesize_no_target": "请填写要检测的AUC差异或时间比值（或两者）。",
  "err.samplesize_bad_auc_difference": "AUC差异必须在0与1之间且不为0。",
  "err.samplesize_bad_time_ratio": "时间比值必须为正、小于10且不等于1。",
  "err.samplesize_not_a_number": "{field} 必须是数字。",
  "err.samplesize_bad_readers": "请填写1至{max_rows}个阅片者人数，每个在2到100之间。",
  "err.samplesize_bad_n_sim": "每种设计的模拟研究数：20到500之间的整数。",
  "err.samplesize_bad_source": "请选择方差成分的来源。",
  "err.samplesize_bad_time_measure": "未知的时间度量。",
  "err.samplesize_no_pilot": "请选择已完成的预试验研究。",
  "err.samplesize_pilot_not_finished":
    "预试验研究尚未完成：已提交 {done}/{expected} 次阅片。",
  "err.samplesize_pilot_no_auc": "预试验研究没有可用于估算的AUC多阅片者多病例分析。",
  "err.samplesize_pilot_no_time": "预试验研究没有可用于估算的阅片时间模型。",
  "err.samplesize_missing_components": "请填写全部方差成分：{fields}。",
  "err.samplesize_bad_components": "预试验的病例数必须是不小于2的整数。",
  "err.samplesize_invalid": "无法用这些数值估算：{reason}。",
};

export function ssText(
  lang: Language,
  key: SsKey,
  params: Record<string, string | number> = {},
): string {
  const template = lang === "en" ? en[key] : zh[key];
  return template.replace(/\{(\w+)\}/g, (_, name: string) =>
    name in params ? String(params[name]) : `{${name}}`,
  );
}

function isSsKey(key: string): key is SsKey {
  return key in en;
}

/** A server error in the user's language, from its stable code and params. */
export function ssErrorText(lang: Language, error: unknown): string {
  if (!(error instanceof ApiError)) {
    return error instanceof Error ? error.message : String(error);
  }
  const code =
    error.code ?? (typeof error.extra.code === "string" ? error.extra.code : "");
  const key = `err.${code}`;
  if (code && isSsKey(key)) {
    const params: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(error.params)) {
      params[name] = Array.isArray(value) ? value.join(", ") : String(value);
    }
    return ssText(lang, key, params);
  }
  return error.message || `HTTP ${error.status}`;
}
