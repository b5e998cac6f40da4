import { useState, type FormEvent } from "react";
import { safeNextPath } from "../auth/guard";
import { useAuth } from "../auth/useAuth";
import { LanguageSwitch } from "../components/LanguageSwitch";
import { useI18n } from "../i18n/useI18n";
import { navigate } from "../router/history";
import { loginErrorMessage } from "./loginErrorMessage";

export function LoginPage() {
  const { login } = useAuth();
  const { t } = useI18n();
  const [username, setUsername] = useState("");
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
      await login({ username: username.trim(), password });
      const next = safeNextPath(new URLSearchParams(window.location.search).get("next"));
      navigate(next ?? "/worklist", { replace: true });
    } catch (caught) {
      setError(loginErrorMessage(caught, t));
      setPassword("");
      setSubmitting(false);
    }
  };

  return (
    <div className="login-page">
      <div className="login-lang">
        <LanguageSwitch />
      </div>
      <form className="login-card" onSubmit={(e) => void handleSubmit(e)} noValidate>
        <h1 className="login-brand">{t("app.name")}</h1>
        <h2 className="login-title">{t("login.title")}</h2>
        <label className="field">
          <span>{t("login.username")}</span>
          <input
            name="username"
            autoComplete="username"
            autoFocus
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
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {error && (
          <p className="form-error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button type="submit" className="btn btn-primary" disabled={submitting}>
          {submitting ? t("login.submitting") : t("login.submit")}
        </button>
      </form>
    </div>
  );
}
