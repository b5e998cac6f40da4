import { useEffect } from "react";
import { guardRedirect } from "../auth/guard";
import { useAuth } from "../auth/useAuth";
import { TopBar } from "../components/TopBar";
import { CenteredMessage } from "../components/CenteredMessage";
import { useI18n } from "../i18n/useI18n";
import { LoginPage } from "../pages/LoginPage";
import { CasePage } from "../pages/CasePage";
import { WorklistPage } from "../pages/WorklistPage";
import { navigate } from "../router/history";
import { matchRoute } from "../router/routes";
import { useLocation } from "../router/useLocation";

export function App() {
  const { pathname, search } = useLocation();
  const auth = useAuth();
  const { t } = useI18n();
  const route = matchRoute(pathname);
  const redirect = guardRedirect(route, auth.state, pathname, search);

  useEffect(() => {
    if (redirect !== null) navigate(redirect, { replace: true });
  }, [redirect]);

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
          <CasePage key={route.studyId} studyId={route.studyId} />
        )}
        {route.name === "notFound" && (
          <CenteredMessage>{t("error.notFound")}</CenteredMessage>
        )}
      </main>
    </div>
  );
}
