import { describe, expect, it } from "vitest";
import type { InstanceInfo, SeriesInfo, StudyDetail } from "../../api/studies";
import { planarViews } from "./planarViews";

let counter = 0;
function instance(extra: Partial<InstanceInfo> = {}): InstanceInfo {
  counter += 1;
  return {
    id: `i${counter}`,
    sop_instance_uid: `1.2.${counter}`,
    sop_class_uid: "1.2.840.10008.5.1.4.1.1.20",
    instance_number: counter,
    number_of_frames: 1,
    rows: 1024,
    columns: 256,
    wado_uri: `/wado?requestType=WADO&objectUID=1.2.${counter}&contentType=application%2Fdicom`,
    ...extra,
  };
}

function series(instances: InstanceInfo[], extra: Partial<SeriesInfo> = {}): SeriesInfo {
  return {
    id: `s${instances[0]?.id ?? "x"}`,
    series_instance_uid: "1.3",
    modality: "NM",
    description: "",
    series_number: 1,
    number_of_instances: instances.length,
    instances,
    ...extra,
  };
}

function study(s: SeriesInfo[]): StudyDetail {
  return {
    id: "st",
    study_instance_uid: "1.4",
    patient: { id: "p", patient_id: "P1", name: "张三", sex: "F", birth_date: null },
    study_date: "2026-01-01",
    study_time: null,
    accession_number: "A1",
    description: "",
    modalities: ["NM"],
    kind: "planar",
    number_of_series: s.length,
    number_of_instances: s.reduce((n, x) => n + x.instances.length, 0),
    report_status: null,
    ai_status: null,
    series: s,
  };
}

const origin = window.location.origin;

describe("planarViews", () => {
  it("uses frames 1 and 2 of a two-frame object", () => {
    const i = instance({ number_of_frames: 2 });
    const views = planarViews(study([series([i])]));
    expect(views.anterior).toBe(`wadouri:${origin}${i.wado_uri}&frame=1`);
    expect(views.posterior).toBe(`wadouri:${origin}${i.wado_uri}&frame=2`);
  });

  it("follows the archive's frame views of a posterior-first two-frame object", () => {
    const i = instance({ number_of_frames: 2, frame_views: ["posterior", "anterior"] });
    const views = planarViews(study([series([i])]));
    expect(views.anterior).toBe(`wadouri:${origin}${i.wado_uri}&frame=2`);
    expect(views.posterior).toBe(`wadouri:${origin}${i.wado_uri}&frame=1`);
  });

  it("uses two single-frame instances in instance-number order", () => {
    const a = instance({ instance_number: 1 });
    const p = instance({ instance_number: 2 });
    const views = planarViews(study([series([p, a])]));
    expect(views.anterior).toBe(`wadouri:${origin}${a.wado_uri}`);
    expect(views.posterior).toBe(`wadouri:${origin}${p.wado_uri}`);
  });

  it("follows series descriptions over numbering", () => {
    const p = instance();
    const a = instance();
    const views = planarViews(
      study([
        series([p], { description: "WB POST", series_number: 1 }),
        series([a], { description: "WB ANT", series_number: 2 }),
      ]),
    );
    expect(views.anterior).toContain(a.wado_uri);
    expect(views.posterior).toContain(p.wado_uri);
  });

  it("follows an explicit view on the instance", () => {
    const p = instance({ instance_number: 1, view: "posterior" });
    const a = instance({ instance_number: 2, view: "anterior" });
    const views = planarViews(study([series([p, a])]));
    expect(views.anterior).toContain(a.wado_uri);
    expect(views.posterior).toContain(p.wado_uri);
  });

  it("ignores segmentation series and objects", () => {
    const img = instance({ number_of_frames: 2 });
    const seg = instance({
      sop_class_uid: "1.2.840.10008.5.1.4.1.1.66.4",
      number_of_frames: 4,
    });
    const views = planarViews(
      study([series([seg], { modality: "SEG", series_number: 0 }), series([img])]),
    );
    expect(views.anterior).toContain(img.wado_uri);
  });

  it("returns what there is for one image, and nothing for no images", () => {
    const only = instance();
    expect(planarViews(study([series([only])]))).toEqual({
      anterior: `wadouri:${origin}${only.wado_uri}`,
      posterior: null,
    });
    expect(planarViews(study([]))).toEqual({ anterior: null, posterior: null });
  });
});
