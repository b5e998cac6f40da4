import { describe, expect, it } from "vitest";
import type { Lesion } from "../api/inference";
import { confirmAiLesion, EMPTY_ANSWER, missingFields, withLesion } from "./answerDraft";

const lesion = (id: number, centroid: number[], locations: Lesion["locations"] = null) =>
  ({ id, centroid, locations }) as Lesion;

describe("answer draft", () => {
  it("names what is missing before a submit", () => {
    expect(missingFields(EMPTY_ANSWER)).toEqual(["metastasis_present", "confidence"]);
    expect(
      missingFields({ ...EMPTY_ANSWER, metastasis_present: false, confidence: 0 }),
    ).toEqual([]);
  });

  it("stores a confirmed AI lesion in image coordinates, once per AI lesion", () => {
    const planar = lesion(3, [10, 20], { anterior: { frame: 0, centroid: [40, 70] } });
    let answer = confirmAiLesion(EMPTY_ANSWER, planar, "planar", "benign");
    answer = confirmAiLesion(answer, planar, "planar", "metastatic");
    expect(answer.lesions).toEqual([
      {
        label: "metastatic",
        shape: "point",
        location: { kind: "planar", view: "anterior", x: 70, y: 40 },
        ai_lesion_id: 3,
      },
    ]);
    const spect = confirmAiLesion(
      EMPTY_ANSWER,
      lesion(1, [5, 6, 7]),
      "spectct",
      "benign",
    );
    expect(spect.lesions[0]?.location).toEqual({ kind: "spectct", x: 7, y: 6, z: 5 });
  });

  it("keeps every lesion the reader marks by hand", () => {
    const mark = {
      label: "benign" as const,
      shape: "point" as const,
      location: { kind: "planar" as const, view: "anterior", x: 1, y: 2 },
      ai_lesion_id: null,
    };
    expect(withLesion(withLesion(EMPTY_ANSWER, mark), mark).lesions).toHaveLength(2);
  });
});
