import { useState, type FormEvent } from "react";
import type { LoginInput } from "../api/auth";
import { useI18n } from "../i18n/useI18n";
import { loginErrorMessage } from "../pages/loginErrorMessage";

/**
 * The state of a user-name/password form (the login page, the "session ended" dialog):
 * both fields required, one submit at a time, a failed sign-in said in the user's language
 * and the password cleared. `signIn` does the signing in and what follows it.
 */
export function useSignInForm(
  signIn: (input: LoginInput) => Promise<void>,
  initialUsername = "",
) {
  const { t } = useI18n();
  const [username, setUsername] = useState(initialUsername);
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
      await signIn({ username: username.trim(), password });
    } catch (caught) {
      setError(loginErrorMessage(caught, t));
      setPassword("");
      setSubmitting(false);
    }
  };

  return {
    username,
    setUsername,
    password,
    setPassword,
    error,
    submitting,
    onSubmit: (event: FormEvent<HTMLFormElement>) => void handleSubmit(event),
  };
}
