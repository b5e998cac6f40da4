"""The printable report: the results JSON and its plots as HTML, rendered to PDF by WeasyPrint.

WeasyPrint (rather than Chromium's print-to-PDF) because it is a library: the web process renders
the PDF itself, with no browser process to start, sandbox and time out per request, and the output
is the same on every machine that has Pango (scripts/system-deps.sh). The plots are the PNGs the
results page shows (``analysis.plots``), embedded as data URIs, so the PDF needs no network.
"""

from __future__ import annotations

import base64
from typing import Any

from django.template.loader import render_to_string

from analysis.plots import plot_render

REPORT_PLOTS = ("paired-times", "case-times", "roc", "forest", "roc-readers")

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Reader study report",
        "design": "Design",
        "readers": "Readers",
        "cases": "Cases (positive / negative)",
        "arms": "Arms",
        "sessions": "Sessions",
        "washout": "Wash-out (days)",
        "readings": "Readings done / expected",
        "time_measure": "Time measure",
        "flagged_excluded": "Flagged case views excluded",
        "time": "Reading time",
        "reader": "Reader",
        "unaided": "Without AI",
        "aided": "With AI",
        "minutes": "min",
        "ratio": "Mean total with AI / mean total without AI",
        "t_p": "Paired t p",
        "wilcoxon_p": "Wilcoxon p",
        "reader_ratio": "Ratio with / without AI (95% CI)",
        "mean": "Mean",
        "ratio_line": "Time ratio with AI / without AI (mixed model on log time)",
        "carryover": "Carry-over check (arm x period term, log scale)",
        "accuracy": "Accuracy",
        "arm": "Arm",
        "sensitivity": "Sensitivity",
        "specificity": "Specificity",
        "auc": "AUC",
        "pooled": "Pooled",
        "delong": "AUC difference per reader (paired DeLong)",
        "difference": "Difference",
        "mrmc": "MRMC analysis (Obuchowski-Rockette, Hillis df)",
        "mrmc_line": "AUC with AI - AUC without AI",
        "lesions": "Lesion level",
        "loc_sens": "Localisation sensitivity",
        "false_marks": "False marks per case",
        "class_acc": "Lesion classification accuracy",
        "flagged": "Flagged reading times",
        "case": "Case",
        "session": "Session",
        "seconds": "Seconds",
        "reason": "Reason",
        "none": "None.",
        "plots": "Plots",
        "methods": "Methods",
        "notes": "Notes",
        "generated": "Generated",
        "incomplete": "The study is not finished: these results are interim.",
        "active": "active time (visible, not idle)",
        "total": "open-to-submit time",
    },
    "zh-CN": {
        "title": "阅片研究报告",
        "design": "研究设计",
        "readers": "阅片者",
        "cases": "病例（阳性 / 阴性）",
        "arms": "组别",
        "sessions": "阅片轮次",
        "washout": "洗脱期（天）",
        "readings": "已完成 / 应完成阅片数",
        "time_measure": "时间口径",
        "flagged_excluded": "被标记而排除的阅片",
        "time": "阅片时间",
        "reader": "阅片者",
        "unaided": "无AI",
        "aided": "有AI",
        "minutes": "分钟",
        "ratio": "平均总时间 有AI / 无AI",
        "t_p": "配对t检验 p",
        "wilcoxon_p": "Wilcoxon p",
        "reader_ratio": "有AI/无AI时间比值（95% CI）",
        "mean": "平均",
        "ratio_line": "时间比值 有AI / 无AI（对数时间混合模型）",
        "carryover": "延滞效应检查（组别×阶段交互项，对数尺度）",
        "accuracy": "准确性",
        "arm": "组别",
        "sensitivity": "敏感度",
        "specificity": "特异度",
        "auc": "AUC",
        "pooled": "合并",
        "delong": "每位阅片者的AUC差值（配对DeLong）",
        "difference": "差值",
        "mrmc": "多阅片者多病例分析（Obuchowski-Rockette，Hillis自由度）",
        "mrmc_line": "AUC 有AI - 无AI",
        "lesions": "病灶水平",
        "loc_sens": "定位敏感度",
        "false_marks": "每例假标记数",
        "class_acc": "病灶分类准确率",
        "flagged": "被标记的阅片时间",
        "case": "病例",
        "session": "轮次",
        "seconds": "秒",
        "reason": "原因",
        "none": "无。",
        "plots": "图",
        "methods": "方法",
        "notes": "备注",
        "generated": "生成时间",
        "incomplete": "研究尚未完成：以下为中期结果。",
        "active": "有效时间（可见且未空闲）",
        "total": "打开至提交时间",
    },
}

METHODS: dict[str, str] = {
    "en": (
        "Reading time per case is measured by the viewer's timer on the server clock: the active "
        "time (the case visible and the reader not idle) or the open-to-submit time; case views "
        "flagged by the study admin are excluded unless stated. The table gives each reader's "
        "total minutes over the case set in each arm with paired t and Wilcoxon tests on the "
        "per-case times and the reader's own time ratio (the geometric mean of the per-case ratios "
        "with a t interval on the log scale). The time ratio (with AI / without AI) and its 95% confidence interval "
        "come from a linear mixed model on log time with arm and session as fixed effects and "
        "crossed random effects for reader and case (statsmodels MixedLM); an arm x period term "
        "is reported as the carry-over check. Sensitivity and specificity are computed from the "
        "yes/no answers with Wilson intervals, the AUC empirically from the 0-100 confidence "
        "ratings with DeLong intervals; per reader, the two arms are compared with the paired "
        "DeLong test. The multi-reader multi-case analysis is Obuchowski-Rockette with Hillis "
        "denominator degrees of freedom, covariances estimated by the jackknife, readers and "
        "cases random, so that the conclusion generalises to other readers and cases. Every "
        "number is computed by BoneRead's statistics engine (boneread_ml.stats), validated "
        "against pROC and published OR-Hillis results (docs/reader-study-analysis.md)."
    ),
    "zh-CN": (
        "每例阅片时间由阅片器的计时器按服务器时钟记录：有效时间（病例可见且阅片者未空闲）或打开至"
        "提交的时间；研究管理员标记的阅片默认排除。表中给出每位阅片者在各组读完全部病例的总分钟数，"
        "并对每例时间做配对t检验和Wilcoxon检验，给出该阅片者自身的时间比值（各病例比值的几何均数，对数尺度t区间）。时间比值（有AI/无AI）及其95%置信区间来自对数时间的"
        "线性混合模型：组别与轮次为固定效应，阅片者与病例为交叉随机效应（statsmodels MixedLM）；"
        "组别×阶段交互项作为延滞效应检查。敏感度与特异度由是/否回答计算（Wilson区间），AUC由0-100"
        "置信评分按经验法计算（DeLong区间）；每位阅片者两组之间用配对DeLong检验比较。多阅片者多病例"
        "分析采用Obuchowski-Rockette方法与Hillis分母自由度，协方差用刀切法估计，阅片者和病例均为"
        "随机效应，使结论可推广到其他阅片者和病例。所有数字均由BoneRead的统计引擎"
        "（boneread_ml.stats）计算，并已与pROC及已发表的OR-Hillis结果核对"
        "（docs/reader-study-analysis.md）。"
    ),
}


def report_language(lang: str | None) -> str:
    return "en" if (lang or "").lower().startswith("en") else "zh-CN"


def fmt(value: Any, digits: int = 3) -> str:
    """The one number format of the page, the PDF and the tests: ``digits`` decimals, '-' for none."""
    if value is None:
        return "–"
    return f"{float(value):.{digits}f}"


def fmt_p(value: Any) -> str:
    if value is None:
        return "–"
    return "<0.001" if float(value) < 0.001 else f"{float(value):.3f}"


def fmt_ci(ci: Any, digits: int = 3) -> str:
    if not ci:
        return "–"
    return f"{fmt(ci[0], digits)} – {fmt(ci[1], digits)}"


def _report_context(results: dict[str, Any], lang: str) -> dict[str, Any]:
    time = results.get("time") or {}
    accuracy = results.get("accuracy") or {}
    mrmc = results.get("mrmc")
    lesions = results.get("lesions") or {}

    def accuracy_row(row: dict[str, Any]) -> dict[str, str]:
        return {
            "reader": row.get("reader", ""),
            "arm": TEXT[lang].get(row.get("arm", ""), row.get("arm", "")),
            "sensitivity": fmt(row.get("sensitivity")),
            "sensitivity_ci": fmt_ci(row.get("sensitivity_ci")),
            "specificity": fmt(row.get("specificity")),
            "specificity_ci": fmt_ci(row.get("specificity_ci")),
            "auc": fmt(row.get("auc")),
            "auc_ci": fmt_ci(row.get("auc_ci")),
        }

    carry = time.get("carryover") or {}
    return {
        "t": TEXT[lang],
        "lang": lang,
        "methods": METHODS[lang],
        "study": results.get("study") or {},
        "design": results.get("design") or {},
        "time_measure": TEXT[lang].get((results.get("design") or {}).get("time_measure", ""), ""),
        "time_rows": [
            {
                "reader": row["reader"],
                "unaided": fmt(row.get("unaided_minutes"), 1),
                "aided": fmt(row.get("aided_minutes"), 1),
                "t_p": fmt_p(row.get("t_p")),
                "wilcoxon_p": fmt_p(row.get("wilcoxon_p")),
                "ratio": fmt(row.get("ratio"), 2),
                "ratio_ci": fmt_ci(row.get("ratio_ci"), 2),
            }
            for row in time.get("per_reader") or []
        ],
        "time_mean": {
            "unaided": fmt(time.get("mean_unaided_minutes"), 1),
            "aided": fmt(time.get("mean_aided_minutes"), 1),
        },
        "time_ratio": fmt(time.get("ratio"), 2),
        "ratio_of_means": fmt(time.get("ratio_of_means"), 2),
        "time_ratio_ci": fmt_ci(time.get("ratio_ci"), 2),
        "time_ratio_p": fmt_p(time.get("ratio_p")),
        "carryover": {
            "estimate": fmt(carry.get("estimate"), 3),
            "p": fmt_p(carry.get("p")),
        }
        if carry
        else None,
        "accuracy_rows": [accuracy_row(row) for row in accuracy.get("per_reader") or []],
        "accuracy_pooled": [
            accuracy_row({**row, "reader": TEXT[lang]["pooled"]})
            for row in accuracy.get("pooled") or []
        ],
        "delong_rows": [
            {
                "reader": row["reader"],
                "unaided": fmt(row.get("auc_unaided")),
                "aided": fmt(row.get("auc_aided")),
                "difference": fmt(row.get("difference")),
                "ci": fmt_ci(row.get("ci")),
                "p": fmt_p(row.get("p")),
            }
            for row in accuracy.get("delong") or []
        ],
        "mrmc": {
            "unaided": fmt((mrmc.get("auc_mean") or {}).get("unaided")),
            "aided": fmt((mrmc.get("auc_mean") or {}).get("aided")),
            "difference": fmt(mrmc.get("difference")),
            "ci": fmt_ci(mrmc.get("ci")),
            "F": fmt(mrmc.get("F"), 2),
            "df": f"{fmt(mrmc.get('df_numerator'), 0)}, {fmt(mrmc.get('df_denominator'), 1)}",
            "p": fmt_p(mrmc.get("p")),
        }
        if mrmc
        else None,
        "lesion_rows": [
            {
                "reader": row.get("reader", TEXT[lang]["pooled"]),
                "arm": TEXT[lang].get(row.get("arm", ""), row.get("arm", "")),
                "loc_sens": fmt(row.get("localisation_sensitivity")),
                "false_marks": fmt(row.get("false_marks_per_case"), 2),
                "class_acc": fmt(row.get("classification_accuracy")),
            }
            for row in [*(lesions.get("per_reader") or []), *(lesions.get("pooled") or [])]
        ],
        "flagged": [
            {
                **row,
                "arm": TEXT[lang].get(row.get("arm", ""), row.get("arm", "")),
                "seconds": fmt(row.get("seconds"), 0),
            }
            for row in results.get("flagged") or []
        ],
        "notes": results.get("notes") or [],
        "plots": {
            name.replace("-", "_"): "data:image/png;base64,"
            + base64.b64encode(plot_render(results=results, name=name, lang=lang)).decode()
            for name in REPORT_PLOTS
        },
    }


def report_html(*, results: dict[str, Any], lang: str = "zh-CN") -> str:
    """The report as a self-contained HTML document (plots inline)."""
    lang = report_language(lang)
    return render_to_string("analysis/report.html", _report_context(results, lang))


def report_pdf(*, results: dict[str, Any], lang: str = "zh-CN") -> bytes:
    """The report as PDF bytes (WeasyPrint)."""
    from weasyprint import HTML  # imported here: it loads Pango, which only the PDF needs

    return HTML(string=report_html(results=results, lang=lang)).write_pdf()
