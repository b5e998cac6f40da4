import { describe, expect, it } from "vitest";
import { labelmapInVolumeOrder, lesionVoxel, objectUidOf } from "./volumeLabelmap";

const id = (uid: string) =>
  `wadouri:http://x/wado?requestType=WADO&objectUID=${uid}&contentType=application%2Fdicom`;

describe("labelmapInVolumeOrder", () => {
  it("reorders frames by SOP instance UID into the volume's slice order", () => {
    // Label map: slice 0 superior (uid c), slice 2 inferior (uid a); the volume runs a, b, c.
    const labelmap = { shape: [3, 1, 2], data: new Uint8Array([2, 2, 0, 1, 1, 0]) };
    const frames = [
      { sop_instance_uid: "c", frame: 1 },
      { sop_instance_uid: "b", frame: 1 },
      { sop_instance_uid: "a", frame: 1 },
    ];
    const out = labelmapInVolumeOrder(labelmap, frames, [id("a"), id("b"), id("c")]);
    expect(Array.from(out ?? [])).toEqual([1, 0, 0, 1, 2, 2]);
  });
  it("reads the object UID from an image id", () => {
    expect(objectUidOf(id("1.2.3"))).toBe("1.2.3");
    expect(objectUidOf("wadouri:/x")).toBeNull();
  });
});

describe("lesionVoxel", () => {
  const ids = [id("a"), id("b"), id("c")];
  const frames = [
    { sop_instance_uid: "c", frame: 1 },
    { sop_instance_uid: "b", frame: 1 },
    { sop_instance_uid: "a", frame: 1 },
  ];
  it("finds the slice by the UID the backend names", () => {
    expect(
      lesionVoxel([0, 5, 7], { slice: 0, sop_instance_uid: "c" }, frames, ids),
    ).toEqual([7, 5, 2]);
  });
  it("falls back to the frame list", () => {
    expect(lesionVoxel([2, 1, 1], null, frames, ids)).toEqual([1, 1, 0]);
    expect(lesionVoxel([9, 1, 1], null, frames, ids)).toBeNull();
  });
});
