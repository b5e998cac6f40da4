import { useEffect } from "react";
import { listStudies } from "../api/studies";
import { CenteredMessage } from "../components/CenteredMessage";
import { ErrorBox } from "../components/ErrorBox";
import { useI18n } from "../i18n/useI18n";
import { useAsync } from "../lib/hooks/useAsync";
import { useLiveStatus } from "../lib/hooks/useLiveStatus";
import { navigate } from "../router/history";
import { useLocation } from "../router/useLocation";
import { saveCaseList } from "../worklist/caseNavigation";
import { Pager } from "../worklist/Pager";
import { WorklistFilters } from "../worklist/WorklistFilters";
import { WorklistTable } from "../worklist/WorklistTable";
import {
  pageCount,
  parseWorklistSearch,
  toStudyQuery,
  toggleOrdering,
  worklistSearchString,
  type WorklistQuery,
} from "../worklist/worklistQuery";

function sessionStore(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

export function WorklistPage() {
  const { t } = useI18n();
  const { search } = useLocation();
  const query = parseWorklistSearch(search);
  const queryKey = worklistSearchString(query);

  const [state, retry] = useAsync(
    (signal) => listStudies(toStudyQuery(query), signal),
    [queryKey],
  );

  useEffect(() => {
    if (state.status === "success") {
      saveCaseList(sessionStore(), {
        query,
        ids: state.data.results.map((s) => s.id),
        count: state.data.count,
      });
    }
    // Saved once per loaded page; `query` is derived from queryKey.
  }, [state]);

  const live = useLiveStatus(
    state.status === "success" ? state.data.results.map((s) => s.id) : [],
  );

  const go = (next: WorklistQuery) => navigate(`/worklist${worklistSearchString(next)}`);
  const data = state.data;

  return (
    <section className="page worklist-page" data-testid="worklist">
      <h1>{t("worklist.title")}</h1>
      <WorklistFilters key={queryKey} query={query} onApply={go} />
      {state.status === "error" && <ErrorBox error={state.error} onRetry={retry} />}
      {data === null && state.status === "loading" && (
        <CenteredMessage>{t("common.loading")}</CenteredMessage>
      )}
      {data !== null && (
        <div
          className={
            state.status === "loading" ? "worklist-body is-loading" : "worklist-body"
          }
        >
          <div className="worklist-summary">
            <span data-testid="worklist-count">
              {t("worklist.count", { count: data.count })}
            </span>
          </div>
          {data.results.length === 0 ? (
            <CenteredMessage>{t("worklist.empty")}</CenteredMessage>
          ) : (
            <WorklistTable
              studies={data.results}
              ordering={query.ordering}
              live={live}
              onSort={(field) =>
                go({ ...query, ordering: toggleOrdering(query.ordering, field), page: 1 })
              }
            />
          )}
          <Pager
            page={query.page}
            pages={pageCount(data.count, query.page_size)}
            onPage={(page) => go({ ...query, page })}
          />
        </div>
      )}
    </section>
  );
}
