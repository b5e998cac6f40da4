import { useState, type FormEvent } from "react";
import * as authApi from "../api/auth";
import { useAuth } from "../auth/useAuth";
import { useI18n } from "../i18n/useI18n";
import { loginErrorMessage } from "../pages/loginErrorMessage";

/**
 * Shown over the page when the server ended the session (see auth/sessionEnded.ts). The page
 * underneath stays mounted, so unsaved report text and answers survive: the same user signs in
 * and goes on. Another user signing in gets a fresh worklist (a full reload, so that nothing of
 * the previous user's page stays in memory).
 */
export function SessionEndedDialog() {
  const { user, resumeSession, logout } = useAuth();
  const { t } = useI18n();
  const [username, setUsername] = useState(user?.username ?? "");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  const handleSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (username.trim() === "" || password === "") {
      setError(t("login.error.missing"));
      return;
    }
    setSubmitting(true);
    setError(null);
    try {
      const me = await authApi.login({ username: username.trim(), password });
      if (user !== null && me.username === user.username) {
        resumeSession(me);
      } else {
        window.location.assign("/worklist");
      }
    } catch (caught) {
      setError(loginErrorMessage(caught, t));
      setPassword("");
      setSubmitting(false);
    }
  };

  return (
    <div className="modal-backdrop">
      <form
        className="modal"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="session-ended-title"
        aria-describedby="session-ended-body"
        data-testid="session-ended"
        onSubmit={(e) => void handleSubmit(e)}
        noValidate
      >
        <h2 id="session-ended-title">{t("session.ended.title")}</h2>
        <p id="session-ended-body">{t("session.ended.body")}</p>
        <label className="field">
          <span>{t("login.username")}</span>
          <input
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label className="field">
          <span>{t("login.password")}</span>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            autoFocus
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {error && (
          <p className="form-error" role="alert" data-testid="session-ended-error">
            {error}
          </p>
        )}
        <div className="modal-actions">
          <button type="submit" className="btn btn-primary" disabled={submitting}>
            {submitting ? t("login.submitting") : t("login.submit")}
          </button>
          <button type="button" className="btn" onClick={() => void logout()}>
            {t("session.ended.signOut")}
          </button>
        </div>
      </form>
    </div>
  );
}
