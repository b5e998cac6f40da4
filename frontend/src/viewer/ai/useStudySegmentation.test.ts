import { describe, expect, it } from "vitest";
import type { StudySegmentation } from "../../api/inference";
import { chooseSegmentation, needsListing } from "./useStudySegmentation";

function seg(uid: string, job: string | null): StudySegmentation {
  return {
    series_instance_uid: uid,
    description: uid,
    source: job ? "ai" : "archive",
    job_id: job,
    created: "2026-12-01T00:00:00Z",
    labelmap_url: `/api/studies/s/segmentations/${uid}/labelmap`,
  };
}

describe("chooseSegmentation", () => {
  const list = [seg("1.3", null), seg("1.2", "job-b"), seg("1.1", "job-a")];

  it("draws the shown AI result's own SEG", () => {
    expect(chooseSegmentation(list, "job-a")?.series_instance_uid).toBe("1.1");
  });

  it("without an AI result, draws the newest SEG of any tool", () => {
    expect(chooseSegmentation(list, null)?.series_instance_uid).toBe("1.3");
    expect(chooseSegmentation([], null)).toBeNull();
  });
});

describe("needsListing", () => {
  const listed = { studyId: "s", segmentations: [seg("1.2", "job-b"), seg("1.1", null)] };

  it("lists a study it has not listed", () => {
    expect(needsListing(null, "s", null)).toBe(true);
    expect(needsListing(listed, "t", "job-b")).toBe(true);
  });

  it("does not list again for a result whose SEG it already has", () => {
    expect(needsListing(listed, "s", null)).toBe(false);
    expect(needsListing(listed, "s", "job-b")).toBe(false);
  });

  it("lists again for a new result (its SEG series is new)", () => {
    expect(needsListing(listed, "s", "job-c")).toBe(true);
  });
});
