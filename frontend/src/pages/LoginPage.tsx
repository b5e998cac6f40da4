import { safeNextPath } from "../auth/guard";
import { useAuth } from "../auth/useAuth";
import { useSignInForm } from "../auth/useSignInForm";
import { LanguageSwitch } from "../components/LanguageSwitch";
import { useI18n } from "../i18n/useI18n";
import { navigate } from "../router/history";

export function LoginPage() {
  const { login } = useAuth();
  const { t } = useI18n();
  const form = useSignInForm(async (input) => {
    await login(input);
    const next = safeNextPath(new URLSearchParams(window.location.search).get("next"));
    navigate(next ?? "/worklist", { replace: true });
  });

  return (
    <div className="login-page">
      <div className="login-lang">
        <LanguageSwitch />
      </div>
      <form className="login-card" onSubmit={form.onSubmit} noValidate>
        <h1 className="login-brand">{t("app.name")}</h1>
        <h2 className="login-title">{t("login.title")}</h2>
        <label className="field">
          <span>{t("login.username")}</span>
          <input
            name="username"
            autoComplete="username"
            autoFocus
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
            value={form.password}
            onChange={(e) => form.setPassword(e.target.value)}
          />
        </label>
        {form.error && (
          <p className="form-error" role="alert" data-testid="login-error">
            {form.error}
          </p>
        )}
        <button type="submit" className="btn btn-primary" disabled={form.submitting}>
          {form.submitting ? t("login.submitting") : t("login.submit")}
        </button>
      </form>
    </div>
  );
}
