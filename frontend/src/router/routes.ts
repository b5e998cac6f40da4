/** Every screen of the app, parsed from the path. */
export type Route =
  | { name: "root" }
  | { name: "login" }
  | { name: "worklist" }
  | { name: "case"; studyId: string }
  | { name: "readerStudyResults"; readerStudyId: string }
  | { name: "myReading" }
  | { name: "reading"; readingId: string }
  | { name: "readerStudies" }
  | { name: "readerStudy"; id: string }
  | { name: "notFound" };

function decoded(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

export function matchRoute(pathname: string): Route {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;
  if (path === "/" || path === "") return { name: "root" };
  if (path === "/login") return { name: "login" };
  if (path === "/worklist") return { name: "worklist" };
  if (path === "/reading") return { name: "myReading" };
  if (path === "/reader-studies") return { name: "readerStudies" };
  const readingMatch = /^\/reading\/([^/]+)$/.exec(path);
  if (readingMatch?.[1]) {
    const readingId = decoded(readingMatch[1]);
    return readingId === null ? { name: "notFound" } : { name: "reading", readingId };
  }
  const studyMatch = /^\/reader-studies\/([^/]+)$/.exec(path);
  if (studyMatch?.[1]) {
    const id = decoded(studyMatch[1]);
    return id === null ? { name: "notFound" } : { name: "readerStudy", id };
  }
  const caseMatch = /^\/cases\/([^/]+)$/.exec(path);
  if (caseMatch?.[1]) {
    try {
      return { name: "case", studyId: decodeURIComponent(caseMatch[1]) };
    } catch {
      return { name: "notFound" };
    }
  }
  const resultsMatch = /^\/reader-studies\/([^/]+)\/results$/.exec(path);
  if (resultsMatch?.[1]) {
    try {
      return {
        name: "readerStudyResults",
        readerStudyId: decodeURIComponent(resultsMatch[1]),
      };
    } catch {
      return { name: "notFound" };
    }
  }
  return { name: "notFound" };
}

export function readerStudyResultsPath(readerStudyId: string): string {
  return `/reader-studies/${encodeURIComponent(readerStudyId)}/results`;
}

export function casePath(studyId: string, search = ""): string {
  return `/cases/${encodeURIComponent(studyId)}${search}`;
}
