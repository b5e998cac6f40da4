import { getMyReading, type MyReadingEntry } from "../api/readerStudies";
import { CenteredMessage } from "../components/CenteredMessage";
import { useI18n } from "../i18n/useI18n";
import { useAsync } from "../lib/hooks/useAsync";
import { navigate } from "../router/history";
import { rsErrorText, useRsI18n } from "./messages";
import { readingPath } from "./paths";

/**
 * What a reader sees instead of the worklist: per reader study, the current
 * session, its progress and the one next case. Nothing else of the archive.
 */
export function MyReadingPage() {
  const { t } = useI18n();
  const { tr, lang } = useRsI18n();
  const [state, retry] = useAsync((signal) => getMyReading(signal), []);

  if (state.status === "loading" && state.data === null) {
    return <CenteredMessage>{t("common.loading")}</CenteredMessage>;
  }
  if (state.status === "error") {
    return (
      <div className="error-box" role="alert">
        <span>{rsErrorText(state.error, tr)}</span>
        <button type="button" className="btn" onClick={retry}>
          {t("common.retry")}
        </button>
      </div>
    );
  }
  const studies = state.data?.studies ?? [];
  return (
    <section className="page my-reading" data-testid="my-reading">
      <h1>{tr("my.title")}</h1>
      {studies.length === 0 && <p className="muted">{tr("my.none")}</p>}
      {studies.map((entry) => (
        <StudyCard key={entry.reader_study.id} entry={entry} lang={lang} />
      ))}
    </section>
  );
}

function StudyCard({ entry, lang }: { entry: MyReadingEntry; lang: string }) {
  const { tr } = useRsI18n();
  const { session, next_reading: next } = entry;
  const paused = entry.reader_study.state === "paused";
  return (
    <article
      className="rs-card"
      data-testid="reading-study"
      data-study-id={entry.reader_study.id}
    >
      <h2>{entry.reader_study.title}</h2>
      {session === null ? (
        <p data-testid="sessions-done">{tr("my.sessionDone")}</p>
      ) : (
        <>
          <p>
            {tr("my.session", { number: session.number, total: entry.sessions_total })}
          </p>
          <p data-testid="reading-progress" data-done={session.cases_done}>
            {tr("my.progress", { done: session.cases_done, total: session.cases_total })}
          </p>
          {paused && <p className="notice">{tr("my.paused")}</p>}
          {session.state === "washout" && session.washout_ends_at && (
            <p className="notice" data-testid="washout">
              {tr("my.washout", {
                date: new Date(session.washout_ends_at).toLocaleString(
                  lang === "zh" ? "zh-CN" : "en",
                ),
              })}
            </p>
          )}
          {session.state === "waiting" && <p className="notice">{tr("my.waiting")}</p>}
          {next &&
            !paused &&
            (session.state === "ready" || session.state === "active") && (
              <button
                type="button"
                className="btn btn-primary"
                data-testid="next-case"
                onClick={() => navigate(readingPath(next.id))}
              >
                {tr("my.next")}
              </button>
            )}
        </>
      )}
    </article>
  );
}
