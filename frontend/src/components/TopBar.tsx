import { useState } from "react";
import { useAuth } from "../auth/useAuth";
import { useI18n } from "../i18n/useI18n";
import { navigate } from "../router/history";
import { Link } from "../router/Link";
import { ReaderStudyLinks } from "../readerStudies/ReaderStudyLinks";
import { LanguageSwitch } from "./LanguageSwitch";
import { roleLabel } from "./roleLabel";

export function TopBar() {
  const { user, logout } = useAuth();
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);

  const handleLogout = async () => {
    setBusy(true);
    try {
      await logout();
    } catch {
      // The local session is cleared either way; the server session expires on its own.
    } finally {
      setBusy(false);
      navigate("/login", { replace: true });
    }
  };

  return (
    <header className="topbar">
      <Link to="/worklist" className="topbar-brand">
        {t("app.name")}
      </Link>
      <nav className="topbar-nav">
        {user?.role !== "reader" && <Link to="/worklist">{t("topbar.worklist")}</Link>}
        <ReaderStudyLinks roles={user?.roles ?? (user ? [user.role] : [])} />
      </nav>
      <div className="topbar-spacer" />
      <LanguageSwitch />
      {user && (
        <span className="topbar-user" data-testid="current-user">
          <span className="topbar-user-name">{user.display_name || user.username}</span>
          <span className="topbar-user-role">{roleLabel(user.role, t)}</span>
        </span>
      )}
      <button
        type="button"
        className="btn"
        data-testid="logout"
        disabled={busy}
        onClick={() => void handleLogout()}
      >
        {t("topbar.logout")}
      </button>
    </header>
  );
}
