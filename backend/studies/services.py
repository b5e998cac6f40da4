"""Writes of the archive: the one ingest service every path (upload, import, C-STORE, STOW-RS,
AI results, demo data) goes through.

Guarantees of :func:`instance_ingest`:

* idempotent: re-sending an identical instance is a no-op (``duplicate``);
* the same SOPInstanceUID with different content is refused (``rejected``, ``conflict=True``)
  and the original is kept;
* atomic: the rows are inserted, then the file is written, inside one transaction; if anything
  fails the transaction rolls back and a file this call wrote is removed, so there is never a
  row without its file nor a file without its row.

Called inside a caller's transaction, the ingest is a savepoint of it; if the caller's
transaction rolls back later, the files stay unreferenced (never a row without its file); a retry
re-uses them and ``manage.py archive_verify --delete-orphans`` removes them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from studies.dicom import (
    NATIVE_TRANSFER_SYNTAXES,
    DicomRejected,
    ParsedDicom,
    dicom_parse,
    name_search_text,
    patient_key,
)
from studies.models import Instance, Patient, Series, Study, StudyKind

BATCH_SIZE = 50  # objects per transaction on the bulk paths

log = logging.getLogger(__name__)


class IngestStatus:
    STORED = "stored"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass
class IngestResult:
    """What happened to one received object.

    ``conflict`` is true when it was rejected because another object with the same
    SOPInstanceUID is already stored (HTTP 409 / a DICOM failure status).
    """

    status: str
    filename: str = ""
    reason: str = ""
    instance: Instance | None = None
    sop_instance_uid: str = ""
    conflict: bool = False

    @property
    def ok(self) -> bool:
        return self.status != IngestStatus.REJECTED

    def as_dict(self) -> dict[str, Any]:
        instance = self.instance
        return {
            "file": self.filename,
            "status": self.status,
            "reason": self.reason,
            "sop_instance_uid": self.sop_instance_uid,
            "instance_id": str(instance.id) if instance else None,
            "series_id": str(instance.series_id) if instance else None,
            "study_id": str(instance.series.study_id) if instance else None,
        }


def storage_name(sha256: str) -> str:
    return f"dicom/{sha256[:2]}/{sha256[2:4]}/{sha256}.dcm"


def _read_limited(file: bytes | bytearray | memoryview | IO[bytes], limit: int) -> bytes:
    buffer = isinstance(file, bytes | bytearray | memoryview)
    data = bytes(file) if buffer else file.read(limit + 1)
    if len(data) > limit:
        raise DicomRejected(f"larger than the limit of {limit} bytes (ARCHIVE_MAX_INSTANCE_SIZE)")
    return data


def instance_ingest(
    *,
    file: bytes | IO[bytes],
    source: str,
    user: Any = None,
    filename: str = "",
    expected_study_uid: str | None = None,
) -> IngestResult:
    """Validate one DICOM object and archive it (see the module docstring for the guarantees).

    Args:
        file: the object's bytes, or a binary file-like object read to its end.
        source: an :class:`studies.models.IngestSource` value.
        user: who sent it (None for C-STORE and commands).
        filename: how the sender named it, echoed in the result and in reasons.
        expected_study_uid: STOW-RS to /studies/{uid}: refuse instances of another study.

    Returns:
        An :class:`IngestResult`; bad input is a ``rejected`` result, never an exception.
        Storage or database failures (disk full, database down) raise.
    """
    return instances_ingest(
        files=[(filename, file)], source=source, user=user, expected_study_uid=expected_study_uid
    )[0]


def instances_ingest(
    *,
    files: Iterable[tuple[str, bytes | IO[bytes]]],
    source: str,
    user: Any = None,
    expected_study_uid: str | None = None,
) -> list[IngestResult]:
    """Archive several objects with one commit: :func:`instance_ingest` for a batch.

    Each object is stored, found duplicate or rejected on its own (a savepoint each), with the
    same guarantees as :func:`instance_ingest`; one commit for the batch makes bulk paths (STOW-RS,
    uploads, folder import) several times faster. If the batch as a whole fails (database or
    storage error), none of it is kept: its rows are rolled back, its files removed, and the
    error is raised. Keep batches small (``BATCH_SIZE``): they are held in memory.

    Returns:
        One :class:`IngestResult` per object, in order.
    """
    results: list[IngestResult | None] = []
    pending: list[tuple[int, str, ParsedDicom]] = []
    for filename, file in files:
        filename = filename or getattr(file, "name", "") or ""
        try:
            parsed = dicom_parse(_read_limited(file, settings.ARCHIVE_MAX_INSTANCE_SIZE))
            if expected_study_uid and parsed.study_instance_uid != expected_study_uid:
                raise DicomRejected(
                    f"StudyInstanceUID {parsed.study_instance_uid} is not the study of the "
                    f"request ({expected_study_uid})"
                )
        except DicomRejected as exc:
            results.append(IngestResult(IngestStatus.REJECTED, filename, exc.reason))
            continue
        pending.append((len(results), filename, parsed))
        results.append(None)
    if pending:
        uploaded_by = user if getattr(user, "is_authenticated", False) else None
        for index, result in _batch_store(pending=pending, source=source, user=uploaded_by):
            results[index] = result
    return results  # type: ignore[return-value]


def _batch_store(
    *, pending: list[tuple[int, str, ParsedDicom]], source: str, user: Any
) -> list[tuple[int, IngestResult]]:
    written: list[str] = []
    out: list[tuple[int, IngestResult]] = []
    try:
        with transaction.atomic():
            uids = [parsed.sop_instance_uid for _, _, parsed in pending]
            known = {
                instance.sop_instance_uid: instance
                for instance in Instance.objects.select_related("series").filter(
                    sop_instance_uid__in=uids
                )
            }
            series_cache: dict[str, Series] = {}
            if len(pending) > 1 and len(set(uids)) == len(uids) and not known.keys() & set(uids):
                bulk = _batch_bulk(
                    pending=pending, series_cache=series_cache, written=written, source=source,
                    user=user,
                )  # fmt: skip
                if bulk is not None:
                    return bulk
            for index, filename, parsed in pending:
                result = _batch_one(
                    parsed=parsed,
                    filename=filename,
                    known=known,
                    series_cache=series_cache,
                    written=written,
                    source=source,
                    user=user,
                )
                out.append((index, result))
    except BaseException:
        # The transaction rolled back: remove every file this batch wrote.
        for name in written:
            _file_remove_if_unreferenced(name=name)
        raise
    return out


def _batch_bulk(
    *,
    pending: list[tuple[int, str, ParsedDicom]],
    series_cache: dict[str, Series],
    written: list[str],
    source: str,
    user: Any,
) -> list[tuple[int, IngestResult]] | None:
    """The common case of a batch of new objects: one INSERT for all instance rows.

    Returns None (and leaves no trace) when any object needs individual treatment (a refused
    object, a concurrent sender); the caller then stores them one by one.
    """
    mine: list[str] = []
    try:
        with transaction.atomic():  # a savepoint for the attempt
            instances = []
            for _, _, parsed in pending:
                series = _series_get_or_create(parsed=parsed, cache=series_cache)
                series_cache[parsed.series_instance_uid] = series
                instances.append(
                    _instance_build(parsed=parsed, series=series, source=source, user=user)
                )
            Instance.objects.bulk_create(instances)
            for (_, _, parsed), instance in zip(pending, instances, strict=True):
                name = _file_write(name=instance.file, data=parsed.stored_bytes)
                if name:
                    mine.append(name)
                    written.append(name)
                _after_file_written(instance=instance)
    except (DicomRejected, IntegrityError):
        series_cache.clear()  # it may hold series rolled back with the savepoint
        for name in mine:
            written.remove(name)
            _file_remove_if_unreferenced(name=name)
        return None
    return [
        (index, IngestResult(IngestStatus.STORED, filename, "", instance, parsed.sop_instance_uid))
        for (index, filename, parsed), instance in zip(pending, instances, strict=True)
    ]


def _batch_one(
    *,
    parsed: ParsedDicom,
    filename: str,
    known: dict[str, Instance],
    series_cache: dict[str, Series],
    written: list[str],
    source: str,
    user: Any,
) -> IngestResult:
    for attempt in range(3):
        name_written = None
        try:
            found = known.get(parsed.sop_instance_uid)
            if found is not None:
                return _existing_instance_result(found, parsed, filename)
            with transaction.atomic():  # a savepoint: a refused object leaves no trace
                series = _series_get_or_create(parsed=parsed, cache=series_cache)
                instance = _instance_create(parsed=parsed, series=series, source=source, user=user)
                # The file last: a failure before the commit rolls back the rows, and the
                # file is removed (here or by _batch_store).
                name_written = _file_write(name=instance.file, data=parsed.stored_bytes)
                if name_written:
                    written.append(name_written)
                _after_file_written(instance=instance)
            series_cache[parsed.series_instance_uid] = series
            known[parsed.sop_instance_uid] = instance
            return IngestResult(
                IngestStatus.STORED, filename, "", instance, parsed.sop_instance_uid
            )
        except DicomRejected as exc:
            return IngestResult(
                IngestStatus.REJECTED,
                filename,
                exc.reason,
                sop_instance_uid=parsed.sop_instance_uid,
                conflict=exc.conflict,
            )
        except IntegrityError:
            # Another sender stored the same patient/study/series/instance concurrently:
            # look again; the next pass finds their rows.
            if name_written:
                _file_remove_if_unreferenced(name=name_written)
            series_cache.pop(parsed.series_instance_uid, None)
            again = Instance.objects.filter(sop_instance_uid=parsed.sop_instance_uid).first()
            if again is not None:
                known[parsed.sop_instance_uid] = again
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _instance_create(*, parsed: ParsedDicom, series: Series, source: str, user: Any) -> Instance:
    instance = _instance_build(parsed=parsed, series=series, source=source, user=user)
    instance.save(force_insert=True)
    return instance


def _instance_build(*, parsed: ParsedDicom, series: Series, source: str, user: Any) -> Instance:
    instance = Instance(
        series=series,
        sop_instance_uid=parsed.sop_instance_uid,
        sop_class_uid=parsed.sop_class_uid,
        transfer_syntax_uid=parsed.transfer_syntax_uid,
        file=storage_name(parsed.content_sha256),
        sha256=parsed.content_sha256,
        size=len(parsed.stored_bytes),
        source=source,
        uploaded_by=user,
        **parsed.instance,
    )
    _validate(instance, exclude=["series", "uploaded_by"])
    return instance


def _same_data_set(existing: Instance, parsed: ParsedDicom) -> bool:
    """The same instance in another uncompressed encoding (a C-STORE re-send may negotiate
    implicit instead of explicit VR): equal element by element, file meta aside."""
    if not {existing.transfer_syntax_uid, parsed.transfer_syntax_uid} <= NATIVE_TRANSFER_SYNTAXES:
        return False
    try:
        from studies.selectors import instance_open

        stored, received = instance_open(existing), parsed.dataset

        def tags(ds) -> set:
            # Trailing padding and group lengths depend on the encoding, not on the content.
            return {t for t in ds.keys() if t != 0xFFFCFFFC and t.element != 0}  # noqa: SIM118

        keys = tags(stored)
        return keys == tags(received) and all(stored[t] == received[t] for t in keys)
    except Exception:  # unreadable for comparison: treat as different (the safe answer)
        return False


def _existing_instance_result(existing: Instance, parsed: ParsedDicom, filename: str):
    if existing.sha256 == parsed.content_sha256 or _same_data_set(existing, parsed):
        return IngestResult(
            IngestStatus.DUPLICATE,
            filename,
            "identical instance already stored",
            existing,
            parsed.sop_instance_uid,
        )
    raise DicomRejected(
        f"SOPInstanceUID {parsed.sop_instance_uid} is already stored with different content; "
        "the stored instance was kept",
        conflict=True,
    )


def _validate(row: Any, *, exclude: list[str] | None = None) -> None:
    """full_clean() before save(); a value the model refuses is a reason to reject the object.

    Foreign keys and uniqueness are left to the database (one query less each).
    """
    try:
        row.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as exc:
        fields = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise DicomRejected(f"invalid {type(row).__name__.lower()} attribute ({fields})") from exc


def _after_file_written(*, instance: Instance) -> None:
    """Hook between the file write and the commit (tests inject a failure here)."""


def _file_write(*, name: str, data: bytes) -> str | None:
    """Write ``data`` under its content address; None when the file was already there."""
    if default_storage.exists(name):
        return None
    try:
        saved = default_storage.save(name, ContentFile(data))
    except BaseException:
        if default_storage.exists(name):  # a partly written file of ours
            default_storage.delete(name)
        raise
    if saved != name:
        # A concurrent writer created the same content first; keep theirs.
        default_storage.delete(saved)
        return None
    return saved


def _file_remove_if_unreferenced(*, name: str) -> None:
    try:
        if not Instance.objects.filter(file=name).exists():
            default_storage.delete(name)
    except Exception:  # the database may be the thing that failed; remove the file anyway
        log.warning("removing %s after a failed ingest", name, exc_info=True)
        default_storage.delete(name)


def _patient_get_or_create(*, parsed: ParsedDicom) -> Patient:
    key = patient_key(parsed.patient)
    patient = Patient.objects.filter(patient_key=key).first()
    if patient is not None:
        return patient
    patient = Patient(
        patient_key=key, name_search=name_search_text(parsed.patient["name"]), **parsed.patient
    )
    _validate(patient)
    with transaction.atomic():  # a savepoint: a concurrent insert raises IntegrityError here
        patient.save(force_insert=True)
    return patient


def _name_groups(name: str) -> set[str]:
    return {group.strip().lower() for group in name.split("=") if group.strip()}


def _check_same_patient(*, study: Study, parsed: ParsedDicom) -> None:
    stored, new = study.patient, parsed.patient
    problems = []
    if stored.patient_id != new["patient_id"]:
        problems.append(f"PatientID '{new['patient_id']}' vs stored '{stored.patient_id}'")
    if stored.name and new["name"] and not (_name_groups(stored.name) & _name_groups(new["name"])):
        problems.append(f"PatientName '{new['name']}' vs stored '{stored.name}'")
    if stored.birth_date and new["birth_date"] and stored.birth_date != new["birth_date"]:
        problems.append(f"PatientBirthDate {new['birth_date']} vs stored {stored.birth_date}")
    if problems:
        raise DicomRejected(
            f"conflicting patient data for study {study.study_instance_uid}: " + "; ".join(problems)
        )


def _study_get_or_create(*, parsed: ParsedDicom) -> Study:
    study = (
        Study.objects.select_related("patient")
        .filter(study_instance_uid=parsed.study_instance_uid)
        .first()
    )
    if study is not None:
        _check_same_patient(study=study, parsed=parsed)
        return study
    patient = _patient_get_or_create(parsed=parsed)
    study = Study(study_instance_uid=parsed.study_instance_uid, patient=patient, **parsed.study)
    _validate(study, exclude=["patient"])
    with transaction.atomic():
        study.save(force_insert=True)
    return study


def _series_get_or_create(*, parsed: ParsedDicom, cache: dict[str, Series]) -> Series:
    series = cache.get(parsed.series_instance_uid) or (
        Series.objects.select_related("study__patient")
        .filter(series_instance_uid=parsed.series_instance_uid)
        .first()
    )
    if series is not None:
        if series.study.study_instance_uid != parsed.study_instance_uid:
            raise DicomRejected(
                f"SeriesInstanceUID {parsed.series_instance_uid} already belongs to study "
                f"{series.study.study_instance_uid}, not {parsed.study_instance_uid}"
            )
        _check_same_patient(study=series.study, parsed=parsed)
        return series
    study = _study_get_or_create(parsed=parsed)
    series = Series(series_instance_uid=parsed.series_instance_uid, study=study, **parsed.series)
    _validate(series, exclude=["study"])
    with transaction.atomic():
        series.save(force_insert=True)
    study_summary_refresh(study=study)
    return series


def study_kind_from_series(series: list[tuple[str, str]]) -> str:
    """``planar``, ``spectct`` or ``other`` from (modality, image type) pairs of a study."""
    modalities = {modality for modality, _ in series}
    nm_types = [image_type.upper() for modality, image_type in series if modality == "NM"]
    if "CT" in modalities and any("TOMO" in t for t in nm_types):
        return StudyKind.SPECTCT
    if any("WHOLE BODY" in t for t in nm_types):
        return StudyKind.PLANAR
    return StudyKind.OTHER


def study_summary_refresh(*, study: Study) -> Study:
    """Recompute the study's modality list and kind from its series (on each new series)."""
    pairs = list(study.series.values_list("modality", "image_type"))
    study.modalities = "\\".join(sorted({modality for modality, _ in pairs if modality}))
    study.kind = study_kind_from_series(pairs)
    study.save(update_fields=["modalities", "kind", "modified"])
    return study


# --- many objects at once ------------------------------------------------------------------


class UploadRejected(Exception):
    """A whole upload (not one file in it) is refused: zip bomb, too many members, ...

    ``status_code`` is 413 for a limit, 400 for an unreadable zip.
    """

    def __init__(self, message: str, *, status_code: int = 413) -> None:
        super().__init__(message)
        self.status_code = status_code


def zip_members(*, file: IO[bytes], filename: str) -> Iterator[tuple[str, bytes | None, str]]:
    """Yield ``(member name, bytes, "")`` for each file of a zip, or ``(name, None, reason)``.

    Path traversal names are refused per member; the totals of the central directory and the
    bytes actually inflated are both checked against the zip limits (a lying header cannot get
    more out than the limits allow).
    """
    import zipfile

    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UploadRejected(
            f"{filename}: not a readable zip file ({exc})", status_code=400
        ) from exc
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) > settings.ARCHIVE_ZIP_MAX_MEMBERS:
        raise UploadRejected(
            f"{filename}: {len(members)} files in the zip, more than the limit of "
            f"{settings.ARCHIVE_ZIP_MAX_MEMBERS} (ARCHIVE_ZIP_MAX_MEMBERS)"
        )
    declared = sum(info.file_size for info in members)
    if declared > settings.ARCHIVE_ZIP_MAX_UNCOMPRESSED:
        raise UploadRejected(
            f"{filename}: unpacks to {declared} bytes, more than the limit of "
            f"{settings.ARCHIVE_ZIP_MAX_UNCOMPRESSED} (ARCHIVE_ZIP_MAX_UNCOMPRESSED)"
        )
    inflated_total = 0
    for info in members:
        name = info.filename
        label = f"{filename}/{name}"
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
            yield label, None, "unsafe path in zip (absolute or '..'): refused"
            continue
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            yield label, None, "symbolic link in zip: refused"
            continue
        ratio_limit = settings.ARCHIVE_ZIP_MAX_RATIO
        if info.compress_size and info.file_size / info.compress_size > ratio_limit:
            raise UploadRejected(
                f"{label}: compression ratio above {ratio_limit} (ARCHIVE_ZIP_MAX_RATIO): "
                "refused as a possible zip bomb"
            )
        limit = min(settings.ARCHIVE_MAX_INSTANCE_SIZE, info.file_size)
        try:
            with archive.open(info) as member:
                data = member.read(limit + 1)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
            yield label, None, f"unreadable zip member ({exc})"
            continue
        if len(data) > limit:
            raise UploadRejected(f"{label}: inflates to more than its declared size: refused")
        inflated_total += len(data)
        if inflated_total > settings.ARCHIVE_ZIP_MAX_UNCOMPRESSED:
            raise UploadRejected(f"{filename}: unpacks to more than the limit: refused")
        yield label, data, ""


def is_zip(head: bytes) -> bool:
    return head[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def files_ingest(
    *, files: list[tuple[str, IO[bytes]]], source: str, user: Any = None
) -> list[IngestResult]:
    """Ingest uploaded files, each a DICOM object or a zip of them; one result per object."""
    results: list[IngestResult] = []
    batch: list[tuple[str, bytes | IO[bytes]]] = []
    batch_bytes = 0

    def flush() -> None:
        nonlocal batch_bytes
        results.extend(instances_ingest(files=batch, source=source, user=user))
        batch.clear()
        batch_bytes = 0

    for filename, handle in files:
        head = handle.read(4)
        handle.seek(0)
        members = (
            zip_members(file=handle, filename=filename)
            if is_zip(head)
            else [(filename, handle, "")]
        )
        for label, data, reason in members:
            if data is None:
                flush()  # keep the results in the order of the files
                results.append(IngestResult(IngestStatus.REJECTED, label, reason))
                continue
            batch.append((label, data))
            # Inflated zip members are held in memory until their batch is stored: bound the
            # batch by bytes as well as by count (ARCHIVE_BATCH_MAX_BYTES).
            batch_bytes += len(data) if isinstance(data, bytes) else 0
            if len(batch) >= BATCH_SIZE or batch_bytes >= settings.ARCHIVE_BATCH_MAX_BYTES:
                flush()
    flush()
    return results
