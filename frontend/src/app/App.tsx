import { Suspense, lazy, useEffect } from "react";
import { guardRedirect } from "../auth/guard";
import { useAuth } from "../auth/useAuth";
import { TopBar } from "../components/TopBar";
import { CenteredMessage } from "../components/CenteredMessage";
import { SessionEndedDialog } from "../components/SessionEndedDialog";
import { hasStoredLanguage, languageFromPreference } from "../i18n/language";
import { useI18n } from "../i18n/useI18n";
import { LoginPage } from "../pages/LoginPage";
import { WorklistPage } from "../pages/WorklistPage";
import { flushLeftoverReadingEvents } from "../readingTimer/useReadingTimer";
import { MyReadingPage } from "../readerStudies/MyReadingPage";
import { readerRedirect } from "../readerStudies/readerGuard";
import { ReaderStudiesPage } from "../readerStudies/ReaderStudiesPage";
import { ReaderStudyAdminPage } from "../readerStudies/ReaderStudyAdminPage";
import { navigate } from "../router/history";
import { matchRoute } from "../router/routes";
import { useLocation } from "../router/useLocation";
import { preloadable } from "../lib/preloadable";

// The viewer pulls in Cornerstone (several MB): it is not part of the first page. While the
// reader looks at the worklist it is fetched and initialised in the background, so that
// opening a case does not wait for it.
// Preloadable, not plain React.lazy: a preloaded page renders without suspending (React 19
// holds a Suspense reveal back for up to 300 ms; see lib/preloadable.tsx).
const casePage = preloadable(() => import("../pages/CasePage").then((m) => m.CasePage));
const CasePage = casePage.Component;
// The reader-study results page (study admins) is its own chunk too.
const ResultsPage = lazy(() =>
  import("../readerStudyResults").then((module) => ({ default: module.ResultsPage })),
);
// Reader studies: the reading screen uses the viewer too; the admin and "My reading" pages are light.
const readerCasePage = preloadable(() =>
  import("../readerStudies/ReaderCasePage").then((m) => m.ReaderCasePage),
);
const ReaderCasePage = readerCasePage.Component;
const VIEWER_PREFETCH_DELAY_MS = 300;

function prefetchViewer(reading: boolean): void {
  void (reading ? readerCasePage.preload() : casePage.preload())
    .then(() => import("../lib/cornerstone"))
    .then((cornerstone) => cornerstone.initCornerstone())
    .catch(() => {
      // Offline or a failed download: the case page loads (and reports) it when opened.
    });
}

function safeLocalStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export function App() {
  const { pathname, search } = useLocation();
  const auth = useAuth();
  const { t, lang, setLang } = useI18n();
  const route = matchRoute(pathname);
  const redirect =
    guardRedirect(route, auth.state, pathname, search) ??
    (auth.state === "authenticated" ? readerRedirect(route, auth.user?.role) : null);

  // Reading events a closed tab left behind (offline at the time) go out on the next page.
  const signedIn = auth.state === "authenticated";
  useEffect(() => {
    if (signedIn) flushLeftoverReadingEvents();
  }, [signedIn]);

  useEffect(() => {
    if (redirect !== null) navigate(redirect, { replace: true });
  }, [redirect]);

  const onWorklist =
    (route.name === "worklist" || route.name === "myReading") &&
    auth.state === "authenticated";
  useEffect(() => {
    if (!onWorklist) return;
    const reading = route.name === "myReading";
    const timer = window.setTimeout(
      () => prefetchViewer(reading),
      VIEWER_PREFETCH_DELAY_MS,
    );
    return () => window.clearTimeout(timer);
  }, [onWorklist, route.name]);

  // The account's language applies until the user picks one on this browser.
  const preferred = languageFromPreference(auth.user?.preferred_language);
  useEffect(() => {
    if (
      preferred !== null &&
      preferred !== lang &&
      !hasStoredLanguage(safeLocalStorage())
    ) {
      setLang(preferred);
    }
  }, [preferred, lang, setLang]);

  if (auth.state === "loading" || redirect !== null) {
    return <CenteredMessage>{t("common.loading")}</CenteredMessage>;
  }
  if (route.name === "login") return <LoginPage />;

  return (
    <div className="app-shell">
      <TopBar />
      <main className="app-main">
        {route.name === "worklist" && <WorklistPage />}
        {route.name === "case" && (
          <Suspense fallback={<CenteredMessage>{t("common.loading")}</CenteredMessage>}>
            <CasePage key={route.studyId} studyId={route.studyId} />
          </Suspense>
        )}
        {route.name === "readerStudyResults" && (
          <Suspense fallback={<CenteredMessage>{t("common.loading")}</CenteredMessage>}>
            <ResultsPage key={route.readerStudyId} readerStudyId={route.readerStudyId} />
          </Suspense>
        )}
        {route.name === "myReading" && <MyReadingPage />}
        {route.name === "reading" && (
          <Suspense fallback={<CenteredMessage>{t("common.loading")}</CenteredMessage>}>
            <ReaderCasePage key={route.readingId} readingId={route.readingId} />
          </Suspense>
        )}
        {route.name === "readerStudies" && <ReaderStudiesPage />}
        {route.name === "readerStudy" && (
          <ReaderStudyAdminPage key={route.id} studyId={route.id} />
        )}
        {route.name === "notFound" && (
          <CenteredMessage>{t("error.notFound")}</CenteredMessage>
        )}
      </main>
      {auth.sessionEnded && <SessionEndedDialog />}
    </div>
  );
}
