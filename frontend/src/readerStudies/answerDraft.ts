import type { Lesion } from "../api/inference";
import type { Answer, AnswerLesion, LesionLabel, Location } from "../api/readerStudies";

export const EMPTY_ANSWER: Answer = {
  metastasis_present: null,
  confidence: null,
  comment: "",
  lesions: [],
};

/** A saved answer (or none) as the panel's starting draft. */
export function draftFrom(answer: Answer | null): Answer {
  if (!answer) return EMPTY_ANSWER;
  return {
    metastasis_present: answer.metastasis_present ?? null,
    confidence: answer.confidence ?? null,
    comment: answer.comment ?? "",
    lesions: answer.lesions ?? [],
  };
}

/** What is still missing before the answer may be submitted (the server checks the same). */
export function missingFields(answer: Answer): ("metastasis_present" | "confidence")[] {
  const missing: ("metastasis_present" | "confidence")[] = [];
  if (answer.metastasis_present === null) missing.push("metastasis_present");
  if (answer.confidence === null) missing.push("confidence");
  return missing;
}

export function withLesion(answer: Answer, lesion: AnswerLesion): Answer {
  // One answer per AI lesion: confirming it again replaces the earlier label.
  const lesions =
    lesion.ai_lesion_id === null
      ? [...answer.lesions, lesion]
      : [...answer.lesions.filter((l) => l.ai_lesion_id !== lesion.ai_lesion_id), lesion];
  return { ...answer, lesions };
}

export function withoutLesion(answer: Answer, index: number): Answer {
  return { ...answer, lesions: answer.lesions.filter((_, i) => i !== index) };
}

/**
 * Where an AI lesion is, in image coordinates, for an answer that confirms it:
 * planar: the anterior view's centroid [row, col]; SPECT/CT: the CT voxel of
 * its centroid [slice, row, col].
 */
export function aiLesionLocation(lesion: Lesion, kind: string): Location | null {
  const c = lesion.centroid;
  if (kind === "spectct") {
    if (c.length < 3) return null;
    return { kind: "spectct", x: c[2] ?? 0, y: c[1] ?? 0, z: c[0] ?? 0 };
  }
  const anterior = lesion.locations?.anterior as { centroid?: number[] } | undefined;
  const point = anterior?.centroid ?? c;
  if (point.length < 2) return null;
  return { kind: "planar", view: "anterior", x: point[1] ?? 0, y: point[0] ?? 0 };
}

export function confirmAiLesion(
  answer: Answer,
  lesion: Lesion,
  kind: string,
  label: LesionLabel,
): Answer {
  const location = aiLesionLocation(lesion, kind);
  if (!location) return answer;
  return withLesion(answer, { label, shape: "point", location, ai_lesion_id: lesion.id });
}
