import { describe, expect, it } from "vitest";
import { frameOfImageId } from "./imagePoint";

describe("frameOfImageId", () => {
  it("reads the frame of a multi-frame WADO-URI image id", () => {
    expect(frameOfImageId("wadouri:/wado?requestType=WADO&objectUID=1.2&frame=2")).toBe(
      2,
    );
    expect(frameOfImageId("wadouri:/wado?frame=1")).toBe(1);
    expect(frameOfImageId("wadouri:/wado?objectUID=1.2")).toBeUndefined();
  });
});
