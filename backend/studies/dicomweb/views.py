"""DICOMweb endpoints under /dicomweb/: QIDO-RS, WADO-RS, STOW-RS (see docs/dicom-conformance.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from pydicom.encaps import generate_frames
from rest_framework import status
from rest_framework.views import APIView

from audit.models import AuditOutcome
from audit.services import audit_record
from core.exceptions import ApplicationError, NotFoundError
from studies import selectors
from studies.apis import DICOM_AUTHENTICATION, IgnoreAccept, audit_retrieve
from studies.dicom import NATIVE_TRANSFER_SYNTAXES
from studies.dicomweb import json_model, multipart, qido
from studies.models import IngestSource, Instance
from studies.permissions import CanIngestOrReadOnly
from studies.services import BATCH_SIZE, IngestStatus, instances_ingest

DICOM_JSON = "application/dicom+json"
# Media types of compressed frames, by transfer syntax (PS3.18 Table 8.7.3-2).
FRAME_MEDIA_TYPES = {
    "1.2.840.10008.1.2.4.50": "image/jpeg",
    "1.2.840.10008.1.2.4.51": "image/jpeg",
    "1.2.840.10008.1.2.4.57": "image/jpeg",
    "1.2.840.10008.1.2.4.70": "image/jpeg",
    "1.2.840.10008.1.2.4.80": "image/jls",
    "1.2.840.10008.1.2.4.81": "image/jls",
    "1.2.840.10008.1.2.4.90": "image/jp2",
    "1.2.840.10008.1.2.4.91": "image/jp2",
    "1.2.840.10008.1.2.5": "image/x-dicom-rle",
}
# Failure reasons of the STOW-RS response (PS3.18 Table I.2-3 / PS3.4 Annex B).
FAILURE_PROCESSING = 0x0110
FAILURE_DUPLICATE_CONFLICT = 0x0111
FAILURE_TRANSFER_SYNTAX = 0xC122
FAILURE_CANNOT_UNDERSTAND = 0xC000


class DicomWebApi(APIView):
    authentication_classes = DICOM_AUTHENTICATION
    content_negotiation_class = IgnoreAccept
    # GET for every signed-in user (the selector decides what they see); POST (STOW-RS) only
    # for the roles that may ingest.
    permission_classes = [CanIngestOrReadOnly]

    def base_url(self, request) -> str:
        return request.build_absolute_uri("/dicomweb").rstrip("/")


def json_response(data, *, status_code: int = 200, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        content_type=DICOM_JSON,  # clients compare it verbatim; JSON is UTF-8
        status=status_code,
    )
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def _ignored_warning(ignored: list[str]) -> dict[str, str]:
    if not ignored:
        return {}
    return {
        "Warning": f'299 BoneRead "The following query keys were ignored: {", ".join(ignored)}"'
    }


# --- QIDO-RS -------------------------------------------------------------------------------


def _page(queryset, params):
    offset, limit = qido.paging(params)
    return queryset[offset : offset + limit] if limit is not None else queryset[offset:]


class QidoStudiesApi(DicomWebApi):
    @extend_schema(exclude=True)
    def get(self, request):
        studies = selectors.with_counts(
            selectors.study_queryset_for_user(request.user).select_related("patient"),
            user=request.user,
        )
        hidden_series = selectors.hidden_series_ids_for_user(request.user)
        studies, ignored = qido.qido_filter(
            studies, level="study", params=request.query_params, hidden_series=hidden_series
        )
        studies = studies.order_by("-study_date", "-study_time", "id")
        base = self.base_url(request)
        page = selectors.with_visible_modalities(
            _page(studies, request.query_params), user=request.user
        )
        body = [json_model.study_json(s, base_url=base) for s in page]
        return json_response(body, headers=_ignored_warning(ignored))


class QidoSeriesApi(DicomWebApi):
    @extend_schema(exclude=True)
    def get(self, request, study_uid: str | None = None):
        study = _visible_study(request, study_uid) if study_uid else None
        if study_uid and study is None:
            return json_response([])
        series = selectors.series_queryset_for_user(request.user, study=study)
        series = series.select_related("study__patient")
        hidden = selectors.hidden_instance_ids_for_user(request.user, study=study)
        series = series.annotate(
            number_of_instances=selectors.related_count(Instance, "series", exclude_ids=hidden)
        )
        series, ignored = qido.qido_filter(
            series,
            level="series",
            params=request.query_params,
            hidden_series=selectors.hidden_series_ids_for_user(request.user, study=study),
        )
        series = series.order_by("study__study_date", "series_number", "created")
        base = self.base_url(request)
        page = list(_page(series, request.query_params))
        selectors.with_visible_modalities([s.study for s in page], user=request.user)
        body = [json_model.series_json(s, base_url=base) for s in page]
        return json_response(body, headers=_ignored_warning(ignored))


class QidoInstancesApi(DicomWebApi):
    @extend_schema(exclude=True)
    def get(self, request, study_uid: str | None = None, series_uid: str | None = None):
        study = _visible_study(request, study_uid) if study_uid else None
        if study_uid and study is None:
            return json_response([])
        instances = selectors.instance_queryset_for_user(request.user, study=study)
        instances = instances.select_related("series__study__patient")
        if series_uid:
            instances = instances.filter(series__series_instance_uid=series_uid)
        instances, ignored = qido.qido_filter(
            instances,
            level="instance",
            params=request.query_params,
            hidden_series=selectors.hidden_series_ids_for_user(request.user, study=study),
        )
        instances = instances.order_by("series__series_number", "instance_number", "created")
        base = self.base_url(request)
        extra = qido.include_fields(request.query_params) - set(json_model.STUDY_ATTRIBUTES)
        extra -= set(json_model.SERIES_ATTRIBUTES) | set(json_model.INSTANCE_ATTRIBUTES)
        page = list(_page(instances, request.query_params))
        selectors.with_visible_modalities([i.series.study for i in page], user=request.user)
        body = []
        for instance in page:
            item = json_model.instance_json(instance, base_url=base)
            if extra:  # attributes the database does not index: read them from the file header
                item.update(_header_fields(instance, extra))
            body.append(item)
        return json_response(body, headers=_ignored_warning(ignored))


def _header_fields(instance: Instance, keywords: set[str]) -> dict:
    ds = selectors.instance_open(instance, stop_before_pixels=True)
    if "all" in {k.lower() for k in keywords}:
        keywords = {element.keyword for element in ds if element.keyword}
    out = {}
    for keyword in keywords:
        if keyword in ds and ds.data_element(keyword).tag.group != 0x0002:
            element = ds.data_element(keyword)
            try:
                out[f"{element.tag:08X}"] = element.to_json_dict(None, 10**9)
            except Exception:
                continue
    return out


# --- WADO-RS -------------------------------------------------------------------------------


def _visible_study(request, study_uid: str):
    """The study with this UID if the user may see it (the one study-access selector), else None."""
    return (
        selectors.study_queryset_for_user(request.user).filter(study_instance_uid=study_uid).first()
    )


def _instances(request, study_uid: str, series_uid: str | None = None, sop_uid: str | None = None):
    study = _visible_study(request, study_uid)
    if study is None:
        raise NotFoundError(f"Nothing stored under {sop_uid or series_uid or study_uid}.")
    instances = selectors.instance_queryset_for_user(request.user, study=study)
    if series_uid:
        instances = instances.filter(series__series_instance_uid=series_uid)
    if sop_uid:
        instances = instances.filter(sop_instance_uid=sop_uid)
    instances = list(
        instances.select_related("series__study").order_by(
            "series__series_number", "series__created", "instance_number", "created"
        )
    )
    if not instances:
        what = sop_uid or series_uid or study_uid
        raise NotFoundError(f"Nothing stored under {what}.")
    audit_retrieve(request, study.id, channel="wado-rs")
    return instances


def _accept_check(request, *, allowed: tuple[str, ...]) -> None:
    accept = request.headers.get("Accept", "") or "*/*"
    for media_range in accept.split(","):
        media, params = multipart.content_type_params(media_range)
        if media in ("*/*", "multipart/*") or (
            media == "multipart/related" and params.get("type", allowed[0]) in allowed
        ):
            return
        if media in allowed:
            return
    raise ApplicationError(
        f"Cannot answer with {accept}; this resource is served as multipart/related; "
        f'type="{allowed[0]}".',
        status_code=status.HTTP_406_NOT_ACCEPTABLE,
    )


def _file_chunks(instance: Instance) -> Iterator[bytes]:
    with selectors.instance_file_open(instance) as handle:
        while block := handle.read(1024 * 1024):
            yield block


def _multipart_response(parts, content_type: str) -> StreamingHttpResponse:
    boundary = multipart.new_boundary()
    return StreamingHttpResponse(
        multipart.multipart_stream(parts, boundary),
        content_type=f'multipart/related; type="{content_type}"; boundary={boundary}',
    )


class WadoRetrieveApi(DicomWebApi):
    """Whole study, series or instance as multipart/related; type="application/dicom"."""

    @extend_schema(exclude=True)
    def get(self, request, study_uid, series_uid=None, sop_uid=None):
        _accept_check(request, allowed=("application/dicom",))
        instances = _instances(request, study_uid, series_uid, sop_uid)
        base = self.base_url(request)
        parts = (
            (
                f"application/dicom; transfer-syntax={instance.transfer_syntax_uid}",
                _file_chunks(instance),
                f"{base}/studies/{instance.series.study.study_instance_uid}"
                f"/series/{instance.series.series_instance_uid}"
                f"/instances/{instance.sop_instance_uid}",
            )
            for instance in instances
        )
        return _multipart_response(parts, "application/dicom")


class WadoMetadataApi(DicomWebApi):
    @extend_schema(exclude=True)
    def get(self, request, study_uid, series_uid=None, sop_uid=None):
        instances = _instances(request, study_uid, series_uid, sop_uid)
        base = self.base_url(request)
        body = []
        for instance in instances:
            ds = selectors.instance_open(instance, stop_before_pixels=True)
            body.append(
                json_model.dataset_json(
                    ds,
                    instance_url=json_model.instance_url(instance, base),
                    has_pixels=bool(instance.rows),
                )
            )
        return json_response(body)


def _frame_numbers(text: str, total: int) -> list[int]:
    limit = settings.WADO_MAX_FRAMES_PER_REQUEST
    values = [v for v in text.replace("%2C", ",").split(",") if v.strip()]
    if len(values) > limit:
        raise ApplicationError(
            f"{len(values)} frames asked for; at most {limit} per request "
            "(WADO_MAX_FRAMES_PER_REQUEST).",
            extra={"limit": limit},
        )
    try:
        numbers = [int(v) for v in values]
    except ValueError as exc:
        raise ApplicationError(f"Frame list '{text[:100]}' is not a list of numbers.") from exc
    bad = [n for n in numbers if not 1 <= n <= total]
    if not numbers or bad:
        raise NotFoundError(f"Frame(s) {bad[:10] or text[:100]} out of range 1..{total}.")
    return numbers


def instance_frames(instance: Instance, numbers: list[int]) -> tuple[Iterator[bytes], str]:
    """The given frames (1-based) one by one, and their media type.

    Frames are produced as the response is written: the response holds the stored pixel data
    once and one frame at a time, however often a frame is repeated in the list.
    """
    ds = selectors.instance_open(instance)
    if "PixelData" not in ds:
        raise NotFoundError("This instance has no pixel data.")
    total = instance.number_of_frames or 1
    syntax = instance.transfer_syntax_uid
    if syntax in NATIVE_TRANSFER_SYNTAXES:
        data = ds.PixelData
        rows, columns = ds.Rows, ds.Columns
        samples, bits = int(ds.get("SamplesPerPixel", 1)), int(ds.BitsAllocated)
        pixels = rows * columns * samples

        def native() -> Iterator[bytes]:
            for n in numbers:
                if bits == 1:  # bit-packed frames need not start on a byte boundary
                    import numpy as np

                    start_bit, end_bit = (n - 1) * pixels, n * pixels
                    chunk = np.frombuffer(data[start_bit // 8 : (end_bit + 7) // 8], np.uint8)
                    frame_bits = np.unpackbits(chunk, bitorder="little")
                    offset = start_bit % 8
                    yield np.packbits(
                        frame_bits[offset : offset + pixels], bitorder="little"
                    ).tobytes()
                else:
                    size = pixels * bits // 8
                    yield bytes(data[(n - 1) * size : n * size])

        return native(), "application/octet-stream"
    wanted = set(numbers)
    try:
        frames = {
            index: frame
            for index, frame in enumerate(
                generate_frames(ds.PixelData, number_of_frames=total), start=1
            )
            if index in wanted
        }
    except Exception as exc:  # malformed encapsulation that the ingest could not see
        raise ApplicationError(
            f"The encapsulated pixel data cannot be split into frames: {exc}", status_code=406
        ) from exc
    media = FRAME_MEDIA_TYPES.get(syntax, "application/octet-stream")
    missing = wanted - frames.keys()
    if missing:
        raise ApplicationError(
            f"The encapsulated pixel data holds fewer frames than {total}.", status_code=406
        )
    return (frames[n] for n in numbers), f"{media}; transfer-syntax={syntax}"


class WadoFramesApi(DicomWebApi):
    @extend_schema(exclude=True)
    def get(self, request, study_uid, series_uid, sop_uid, frames):
        instance = _instances(request, study_uid, series_uid, sop_uid)[0]
        numbers = _frame_numbers(frames, instance.number_of_frames or 1)
        data, media = instance_frames(instance, numbers)
        return _multipart_response(((media, [frame]) for frame in data), media.split(";")[0])


class WadoBulkdataApi(DicomWebApi):
    @extend_schema(exclude=True)
    def get(self, request, study_uid, series_uid, sop_uid, tag):
        instance = _instances(request, study_uid, series_uid, sop_uid)[0]
        try:
            tag_value = int(tag, 16)
        except ValueError as exc:
            raise NotFoundError(f"Bulk data tag '{tag}' is not a tag.") from exc
        ds = selectors.instance_open(instance)
        if tag_value not in ds:
            raise NotFoundError(f"No bulk data {tag} in this instance.")
        value = ds[tag_value].value
        if not isinstance(value, bytes):
            raise NotFoundError(f"Element {tag} is not bulk data.")
        return _multipart_response(
            [("application/octet-stream", [value])], "application/octet-stream"
        )


class WadoRenderedApi(DicomWebApi):
    @extend_schema(exclude=True)
    def get(self, request, study_uid, series_uid, sop_uid, frame="1"):
        from studies.rendering import instance_render, render_size_from_viewport

        instance = _instances(request, study_uid, series_uid, sop_uid)[0]
        if not str(frame).isdigit() or len(str(frame)) > 9:
            raise ApplicationError(f"Frame '{str(frame)[:20]}' is not a frame number.")
        accept = request.headers.get("Accept", "")
        image_format = "png" if "image/png" in accept and "image/jpeg" not in accept else "jpeg"
        size = render_size_from_viewport(request.query_params.get("viewport", ""))
        body = instance_render(instance, frame=int(frame), image_format=image_format, max_size=size)
        return HttpResponse(body, content_type=f"image/{image_format}")


# --- STOW-RS -------------------------------------------------------------------------------


def _failure_reason(reason: str, conflict: bool) -> int:
    if conflict:
        return FAILURE_DUPLICATE_CONFLICT
    if "transfer syntax" in reason:
        return FAILURE_TRANSFER_SYNTAX
    if "not a DICOM" in reason or "not readable" in reason:
        return FAILURE_CANNOT_UNDERSTAND
    return FAILURE_PROCESSING


class StowApi(DicomWebApi):
    @extend_schema(exclude=True)
    def post(self, request, study_uid: str | None = None):
        django_request = request._request
        media, params = multipart.content_type_params(request.content_type or "")
        if media != "multipart/related":
            raise ApplicationError(
                'STOW-RS takes multipart/related; type="application/dicom".',
                status_code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            )
        part_type = params.get("type", "application/dicom").lower()
        if part_type != "application/dicom":
            raise ApplicationError(
                f"Parts of type {part_type} are not supported; send application/dicom.",
                status_code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            )
        length = int(django_request.META.get("CONTENT_LENGTH") or 0) or None
        limit = settings.ARCHIVE_MAX_REQUEST_SIZE
        if length and length > limit:
            raise ApplicationError(
                f"Request of {length} bytes is larger than the limit of {limit} bytes "
                "(ARCHIVE_MAX_REQUEST_SIZE).",
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        try:
            body = multipart.spool_body(django_request, length=length, limit=limit)
        except multipart.MultipartError as exc:
            raise ApplicationError(str(exc), status_code=413) from exc
        base = self.base_url(request)
        stored, failed = [], []
        with body:
            try:
                batch: list[tuple[str, bytes]] = []

                def flush() -> None:
                    results = instances_ingest(
                        files=batch,
                        source=IngestSource.STOW,
                        user=request.user,
                        expected_study_uid=study_uid,
                    )
                    for result in results:
                        if result.status == IngestStatus.REJECTED:
                            failed.append(
                                (
                                    result.filename,
                                    result.sop_instance_uid,
                                    "",
                                    result.reason,
                                    result.conflict,
                                )
                            )
                        else:
                            stored.append(result)
                    batch.clear()

                parts = multipart.iter_parts(body, params.get("boundary", ""))
                for index, (headers, payload) in enumerate(parts):
                    part_media = headers.get("content-type", "application/dicom")
                    label = f"part {index + 1}"
                    if multipart.content_type_params(part_media)[0] != "application/dicom":
                        failed.append((label, "", "", f"unsupported part type {part_media}", False))
                        continue
                    batch.append((label, payload))
                    if (
                        len(batch) >= BATCH_SIZE
                        or sum(len(p) for _, p in batch) >= settings.ARCHIVE_BATCH_MAX_BYTES
                    ):
                        flush()
                flush()
            except multipart.MultipartError as exc:
                raise ApplicationError(f"Malformed multipart body: {exc}") from exc
        if not stored and not failed:
            raise ApplicationError("The request holds no DICOM part.")
        stored_studies = sorted({str(r.instance.series.study_id) for r in stored})
        audit_record(
            action="study.store",
            request=request,
            object_type="study",
            object_id=",".join(stored_studies)[:128],
            outcome=AuditOutcome.SUCCESS if stored else AuditOutcome.FAILURE,
            details={"stored": len(stored), "failed": len(failed), "study_ids": stored_studies},
        )
        return json_response(
            self._response_body(stored, failed, base, study_uid),
            status_code=200 if not failed else (202 if stored else status.HTTP_409_CONFLICT),
        )

    @staticmethod
    def _response_body(stored, failed, base, study_uid):
        body: dict = {}
        studies = {r.instance.series.study.study_instance_uid for r in stored}
        if study_uid or len(studies) == 1:
            body["00081190"] = {
                "vr": "UR",
                "Value": [f"{base}/studies/{study_uid or studies.pop()}"],
            }
        if stored:
            body["00081199"] = {
                "vr": "SQ",
                "Value": [
                    {
                        "00081150": {"vr": "UI", "Value": [r.instance.sop_class_uid]},
                        "00081155": {"vr": "UI", "Value": [r.instance.sop_instance_uid]},
                        "00081190": {
                            "vr": "UR",
                            "Value": [json_model.instance_url(r.instance, base)],
                        },
                    }
                    for r in stored
                ],
            }
        if failed:
            items = []
            for label, sop_uid, sop_class, reason, conflict in failed:
                item = {
                    "00081197": {"vr": "US", "Value": [_failure_reason(reason, conflict)]},
                    # Error Comment: the reason in words, for people reading the response.
                    "00000902": {"vr": "LO", "Value": [f"{label}: {reason}"]},
                }
                if sop_uid:
                    item["00081155"] = {"vr": "UI", "Value": [sop_uid]}
                if sop_class:
                    item["00081150"] = {"vr": "UI", "Value": [sop_class]}
                items.append(item)
            body["00081198"] = {"vr": "SQ", "Value": items}
        return body


class StudiesRootApi(QidoStudiesApi, StowApi):
    """/studies: GET searches (QIDO-RS), POST stores (STOW-RS)."""


class StudyApi(WadoRetrieveApi, StowApi):
    """/studies/{uid}: GET retrieves the study (WADO-RS), POST stores into it (STOW-RS)."""
