import * as authApi from "../api/auth";
import { useAuth } from "../auth/useAuth";
import { useSignInForm } from "../auth/useSignInForm";
import { useI18n } from "../i18n/useI18n";

/**
 * Shown over the page when the server ended the session (see auth/sessionEnded.ts). The page
 * underneath stays mounted, so unsaved report text and answers survive: the same user signs in
 * and goes on. Another user signing in gets a fresh worklist (a full reload, so that nothing of
 * the previous user's page stays in memory).
 */
export function SessionEndedDialog() {
  const { user, resumeSession, logout } = useAuth();
  const { t } = useI18n();
  const form = useSignInForm(async (input) => {
    const me = await authApi.login(input);
    if (user !== null && me.username === user.username) resumeSession(me);
    else window.location.assign("/worklist");
  }, user?.username ?? "");

  return (
    <div className="modal-backdrop">
      <form
        className="modal"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="session-ended-title"
        aria-describedby="session-ended-body"
        data-testid="session-ended"
        onSubmit={form.onSubmit}
        noValidate
      >
        <h2 id="session-ended-title">{t("session.ended.title")}</h2>
        <p id="session-ended-body">{t("session.ended.body")}</p>
        <label className="field">
          <span>{t("login.username")}</span>
          <input
            name="username"
            autoComplete="username"
            value={form.username}
            onChange={(e) => form.setUsername(e.target.value)}
          />
        </label>
        <label className="field">
          <span>{t("login.password")}</span>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            autoFocus
            value={form.password}
            onChange={(e) => form.setPassword(e.target.value)}
          />
        </label>
        {form.error && (
          <p className="form-error" role="alert" data-testid="session-ended-error">
            {form.error}
          </p>
        )}
        <div className="modal-actions">
          <button type="submit" className="btn btn-primary" disabled={form.submitting}>
            {form.submitting ? t("login.submitting") : t("login.submit")}
          </button>
          <button type="button" className="btn" onClick={() => void logout()}>
            {t("session.ended.signOut")}
          </button>
        </div>
      </form>
    </div>
  );
}
