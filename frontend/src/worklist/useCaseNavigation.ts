import { useCallback, useEffect, useState } from "react";
import { listStudies } from "../api/studies";
import { navigate } from "../router/history";
import { casePath } from "../router/routes";
import {
  casePosition,
  loadCaseList,
  neighbour,
  saveCaseList,
  type CaseList,
} from "./caseNavigation";
import { EMPTY_QUERY, toStudyQuery, type WorklistQuery } from "./worklistQuery";

function sessionStore(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

async function fetchList(query: WorklistQuery): Promise<CaseList> {
  const page = await listStudies(toStudyQuery(query));
  return { query, ids: page.results.map((s) => s.id), count: page.count };
}

export interface CaseNavigation {
  position: number | null;
  total: number | null;
  canNext: boolean;
  canPrev: boolean;
  go: (direction: 1 | -1) => void;
}

/**
 * Next / previous case in the order of the worklist the user came from. A
 * case opened directly (a bookmark) falls back to the default worklist.
 */
export function useCaseNavigation(studyId: string): CaseNavigation {
  const [list, setList] = useState<CaseList | null>(() => loadCaseList(sessionStore()));
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (list && list.ids.includes(studyId)) return;
    let cancelled = false;
    fetchList({ ...EMPTY_QUERY, page_size: 100 })
      .then((fallback) => {
        if (cancelled || !fallback.ids.includes(studyId)) return;
        saveCaseList(sessionStore(), fallback);
        setList(fallback);
      })
      .catch(() => {
        // Without a list the buttons stay disabled; the case itself still shows.
      });
    return () => {
      cancelled = true;
    };
  }, [list, studyId]);

  const go = useCallback(
    (direction: 1 | -1) => {
      if (!list || busy) return;
      const next = neighbour(list, studyId, direction);
      if (next === null) return;
      if (next.kind === "case") {
        navigate(casePath(next.studyId));
        return;
      }
      setBusy(true);
      fetchList({ ...list.query, page: next.page })
        .then((loaded) => {
          const id =
            next.pick === "first" ? loaded.ids[0] : loaded.ids[loaded.ids.length - 1];
          saveCaseList(sessionStore(), loaded);
          setList(loaded);
          if (id !== undefined) navigate(casePath(id));
        })
        .catch(() => undefined)
        .finally(() => setBusy(false));
    },
    [list, studyId, busy],
  );

  const inList = list !== null && list.ids.includes(studyId);
  return {
    position: inList ? casePosition(list, studyId) : null,
    total: inList ? list.count : null,
    canNext: inList && neighbour(list, studyId, 1) !== null && !busy,
    canPrev: inList && neighbour(list, studyId, -1) !== null && !busy,
    go,
  };
}
