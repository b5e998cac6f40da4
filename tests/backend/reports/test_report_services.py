"""Report versioning, optimistic locking, signing, addenda, search, import and export."""

from __future__ import annotations

import json

import pytest

from core.exceptions import ApplicationError, ConflictError
from reports import selectors, services
from reports.models import Report, ReportStatus, ReportVersion

pytestmark = pytest.mark.django_db

FINDINGS = "第5胸椎、右侧第6肋骨可见异常放射性浓聚影，考虑骨转移。"
IMPRESSION = "多发骨转移瘤。"


def save(study, user, base, **text):
    values = {"history": "乳腺癌术后3年。", "findings": FINDINGS, "impression": IMPRESSION}
    values.update(text)
    return services.report_save(study=study, user=user, base_version=base, **values)


def test_every_save_is_a_new_version_with_author_and_changed_fields(study, physician, physician2):
    report, created = save(study, physician, None)
    assert created and report.version == 1
    report, created = save(study, physician2, 1, impression="骨转移可能性大。")
    assert created and report.version == 2
    versions = list(ReportVersion.objects.filter(report=report).order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].impression == IMPRESSION  # the old text is kept
    assert versions[1].author == physician2
    assert versions[1].changed_fields == ["impression"]
    assert report.author == physician2


def test_saving_over_a_newer_version_is_refused_with_the_current_version(
    study, physician, physician2
):
    save(study, physician, None)
    save(study, physician2, 1, findings="李医生的修改")
    with pytest.raises(ConflictError) as caught:
        save(study, physician, 1, findings="张医生基于旧版本的修改")
    current = caught.value.extra["current"]
    assert current["version"] == 2
    assert current["findings"] == "李医生的修改"
    assert Report.objects.get(study=study).findings == "李医生的修改"  # nothing overwritten


def test_first_save_of_an_existing_report_without_base_version_conflicts(study, physician):
    save(study, physician, None)
    with pytest.raises(ConflictError):
        save(study, physician, None, findings="另一份新报告")


def test_unchanged_save_makes_no_new_version(study, physician):
    save(study, physician, None)
    report, created = save(study, physician, 1)
    assert not created and report.version == 1


def test_empty_new_report_is_refused(study, physician):
    with pytest.raises(ApplicationError):
        services.report_save(
            study=study, user=physician, history="", findings="", impression="", base_version=None
        )


def test_signed_report_is_immutable_and_addenda_keep_the_signed_text(study, physician):
    save(study, physician, None)
    report = services.report_sign(study=study, user=physician, version=1)
    assert report.status == ReportStatus.SIGNED and report.signed_version == 1
    with pytest.raises(ConflictError, match="signed"):
        save(study, physician, 1, findings="签字后修改")
    with pytest.raises(ConflictError, match="already signed"):
        services.report_sign(study=study, user=physician)
    services.report_addendum_add(
        study=study, user=physician, text="补充：复查CT证实第5胸椎骨质破坏。"
    )
    services.report_addendum_add(study=study, user=physician, text="补充二")
    report.refresh_from_db()
    assert report.findings == FINDINGS and report.version == 1
    output = selectors.report_output(report)
    assert [a["number"] for a in output["addenda"]] == [1, 2]
    assert output["addenda"][0]["text"].startswith("补充：")


def test_sign_checks_the_version_and_addenda_need_a_signed_report(study, physician):
    save(study, physician, None)
    save(study, physician, 1, impression="修改后")
    with pytest.raises(ConflictError):
        services.report_sign(study=study, user=physician, version=1)
    with pytest.raises(ConflictError, match="signed reports"):
        services.report_addendum_add(study=study, user=physician, text="补充")


def test_search_by_chinese_substring_status_and_author(physician, physician2, make_study):
    a, b, c = make_study(), make_study(), make_study()
    save(a, physician, None, impression="多发骨转移瘤。")
    save(
        b, physician2, None, findings="右膝关节放射性增高，考虑退行性变。", impression="退行性变。"
    )
    save(c, physician, None, findings="第3腰椎压缩性骨折。", impression="骨折。")
    services.report_sign(study=c, user=physician)

    def ids(**kwargs):
        return {r.study_id for r in selectors.report_list(user=physician, **kwargs)}

    assert ids(search="骨转移") == {a.id}
    assert ids(search="退行性") == {b.id}
    assert ids(search="骨") == {a.id, c.id}
    assert ids(search="腰椎 骨折") == {c.id}  # every term must match
    assert ids(search="不存在的词") == set()
    assert ids(status="signed") == {c.id}
    assert ids(author="li") == {b.id}
    assert ids(author="张医生") == {a.id, c.id}
    with pytest.raises(ApplicationError):
        ids(status="bogus")


def test_search_finds_addenda_text(study, physician):
    save(study, physician, None)
    services.report_sign(study=study, user=physician)
    services.report_addendum_add(study=study, user=physician, text="病理证实为前列腺癌骨转移。")
    assert [r.study_id for r in selectors.report_list(user=physician, search="前列腺癌")] == [
        study.id
    ]


def test_import_reports_with_a_result_per_row(physician, make_study):
    a = make_study(accession="NM001")
    b = make_study(uid="1.2.3.4.5")
    make_study(accession="DUP")
    make_study(accession="DUP")
    signed = make_study(accession="SIGNED")
    save(signed, physician, None)
    services.report_sign(study=signed, user=physician)
    csv_text = (
        "accession_number,study_instance_uid,history,findings,impression,status\n"
        f"NM001,,肺癌,{FINDINGS},{IMPRESSION},\n"
        ",1.2.3.4.5,,第1腰椎骨折。,骨折。,signed\n"
        "NOPE,,,x,y,\n"
        "DUP,,,x,y,\n"
        ",,,x,y,\n"
        "SIGNED,,,新内容,新结论,\n"
        "NM001,,,,,\n"
        "NM001,,,x,y,final\n"
    )
    rows = services.parse_import_file(data=("\ufeff" + csv_text).encode(), filename="r.csv")
    results = [r.as_dict() for r in services.reports_import(rows=rows, user=physician)]
    statuses = [(r["row"], r["status"]) for r in results]
    assert statuses == [
        (1, "imported"),
        (2, "imported"),
        (3, "error"),
        (4, "error"),
        (5, "error"),
        (6, "skipped"),
        (7, "error"),
        (8, "error"),
    ]
    reasons = [r["reason"] for r in results]
    assert "no study with accession number NOPE" in reasons[2]
    assert "several studies" in reasons[3]
    assert "neither" in reasons[4]
    assert "already signed" in reasons[5]
    assert "empty" in reasons[6]
    assert "unknown status" in reasons[7]
    assert Report.objects.get(study=a).impression == IMPRESSION
    assert Report.objects.get(study=b).status == ReportStatus.SIGNED
    # importing the same file again changes nothing
    again = services.reports_import(rows=rows, user=physician)
    assert [r.status for r in again[:2]] == ["skipped", "skipped"]
    assert Report.objects.get(study=a).version == 1


def test_import_json_and_bad_files(physician, make_study):
    study = make_study(accession="J1")
    data = json.dumps({"reports": [{"accession_number": "J1", "findings": "右肩关节退行性变"}]})
    rows = services.parse_import_file(data=data.encode(), filename="r.json")
    assert services.reports_import(rows=rows, user=physician)[0].status == "imported"
    assert Report.objects.get(study=study).findings == "右肩关节退行性变"
    with pytest.raises(ApplicationError, match="not valid JSON"):
        services.parse_import_file(data=b"{not json", filename="x.json")
    with pytest.raises(ApplicationError, match="list"):
        services.parse_import_file(data=b'{"a": 1}', filename="x.json")
    gb = "accession_number,findings\nJ1,第二胸椎骨转移\n".encode("gb18030")
    assert services.parse_import_file(data=gb, filename="x.csv")[0]["findings"] == "第二胸椎骨转移"


def test_export_round_trips_through_import(physician, make_study):
    study = make_study(accession="EXP1")
    save(study, physician, None)
    services.report_sign(study=study, user=physician)
    body, ext = selectors.reports_export(
        reports=selectors.report_list(user=physician), fmt="csv", deidentify=False
    )
    assert ext == "csv" and body.startswith("\ufeff".encode())
    assert "多发骨转移瘤" in body.decode("utf-8-sig")
    rows = services.parse_import_file(data=body, filename="reports.csv")
    assert [r.status for r in services.reports_import(rows=rows, user=physician)] == ["skipped"]
    body, _ = selectors.reports_export(
        reports=selectors.report_list(user=physician), fmt="json", deidentify=True
    )
    exported = json.loads(body)["reports"][0]
    assert exported["patient_name"] == "" and exported["impression"] == IMPRESSION


def test_postgresql_search_uses_the_trigram_index(physician, make_study):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the pg_trgm index exists on PostgreSQL only (SQLite scans)")
    for _ in range(3):
        save(make_study(), physician, None)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'reports_report_search_trgm'"
        )
        assert "gin_trgm_ops" in cursor.fetchone()[0]
        cursor.execute("SET enable_seqscan = off")
        # the search predicate alone (the access rule around it may lead the planner elsewhere
        # on a tiny table; what matters is that the search itself can use the index)
        query = Report.objects.filter(search_text__contains="骨转移").query
        sql, params = query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "reports_report_search_trgm" in plan


def test_the_authors_own_save_sent_twice_answers_with_the_version_it_made(
    study, physician, physician2
):
    """A double submit: the second request carries the same base version and text."""
    first, created = save(study, physician, 0)
    assert created and first.version == 1
    again, created = save(study, physician, 0)
    assert not created and again.version == 1
    second, _ = save(study, physician, 1, impression="骨转移可能。")
    again, created = save(study, physician, 1, impression="骨转移可能。")
    assert not created and again.version == second.version == 2
    assert ReportVersion.objects.filter(report=first).count() == 2


def test_a_stale_save_is_still_a_conflict_for_other_text_or_another_author(
    study, physician, physician2
):
    save(study, physician, 0)
    with pytest.raises(ConflictError) as other_text:
        save(study, physician, 0, impression="不同的文字。")
    assert other_text.value.code == "report_stale_version"
    assert other_text.value.params == {"base_version": 0, "current_version": 1}
    with pytest.raises(ConflictError) as other_author:
        save(study, physician2, 0)
    assert other_author.value.code == "report_stale_version"
