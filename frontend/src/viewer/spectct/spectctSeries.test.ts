import { describe, expect, it } from "vitest";
import type { InstanceInfo, SeriesInfo, StudyDetail } from "../../api/studies";
import { spectCtSources } from "./spectctSeries";

function inst(n: number, frames = 1, uid = `1.9.${n}`): InstanceInfo {
  return {
    id: uid,
    sop_instance_uid: uid,
    sop_class_uid: "1.2.840.10008.5.1.4.1.1.2",
    instance_number: n,
    number_of_frames: frames,
    rows: 128,
    columns: 128,
    wado_uri: `/wado?requestType=WADO&objectUID=${uid}&contentType=application%2Fdicom`,
  };
}

function series(modality: string, instances: InstanceInfo[], uid: string): SeriesInfo {
  return {
    id: uid,
    series_instance_uid: uid,
    modality,
    description: "",
    series_number: 1,
    number_of_instances: instances.length,
    instances,
  };
}

function study(s: SeriesInfo[]): StudyDetail {
  return {
    id: "st",
    study_instance_uid: "1",
    patient: { id: "p", patient_id: "P", name: "", sex: "", birth_date: null },
    study_date: null,
    study_time: null,
    accession_number: "",
    description: "",
    modalities: ["CT", "NM"],
    kind: "spectct",
    number_of_series: s.length,
    number_of_instances: 0,
    report_status: null,
    ai_status: null,
    series: s,
  };
}

describe("spectCtSources", () => {
  it("takes CT slices in instance order and the frames of a multi-frame SPECT", () => {
    const ct = series("CT", [inst(3), inst(1), inst(2)], "ct");
    const spect = series("NM", [inst(1, 4, "nm1")], "nm");
    const sources = spectCtSources(study([ct, spect]));
    expect(sources.ct?.imageIds).toHaveLength(3);
    expect(sources.ct?.imageIds[0]).toContain("objectUID=1.9.1&");
    expect(sources.ct?.urls).toHaveLength(3);
    expect(sources.spect?.urls).toHaveLength(1);
    // The CT's slices come in one WADO-RS request; the one SPECT file by WADO-URI.
    expect(sources.ct?.seriesUrl).toMatch(/\/dicomweb\/studies\/1\/series\/ct$/);
    expect(sources.ct?.sopInstanceUids).toEqual(["1.9.1", "1.9.2", "1.9.3"]);
    expect(sources.spect?.seriesUrl).toBeNull();
    expect(sources.spect?.imageIds.map((id) => id.slice(-8))).toEqual([
      "&frame=1",
      "&frame=2",
      "&frame=3",
      "&frame=4",
    ]);
  });

  it("skips a planar NM and SEG objects", () => {
    const planar = series("NM", [inst(1, 2, "wb")], "wb");
    const seg = series("SEG", [{ ...inst(1, 50, "seg") }], "seg");
    const sources = spectCtSources(study([planar, seg]));
    expect(sources).toEqual({ ct: null, spect: null });
  });
});
