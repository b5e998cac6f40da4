import { useCallback, useEffect, useMemo, useState, type ReactNode } from "react";
import * as authApi from "../api/auth";
import { AuthContext, type AuthValue } from "./AuthContext";
import type { AuthState } from "./guard";
import { SESSION_ENDED_EVENT } from "./sessionEnded";

/** Asks the server who is logged in once, then tracks login and logout. */
export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<authApi.User | null>(null);
  const [state, setState] = useState<AuthState>("loading");
  const [sessionEnded, setSessionEnded] = useState(false);

  useEffect(() => {
    const controller = new AbortController();
    authApi
      .fetchMe(controller.signal)
      .then((me) => {
        setUser(me);
        setState("authenticated");
      })
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        // 401/403 means "not logged in"; anything else also leaves us at the login page.
        void error;
        setUser(null);
        setState("anonymous");
      });
    return () => controller.abort();
  }, []);

  // Only a session that was signed in can end; the first "who am I" check is not announced.
  useEffect(() => {
    if (state !== "authenticated") return;
    const onEnded = () => setSessionEnded(true);
    window.addEventListener(SESSION_ENDED_EVENT, onEnded);
    return () => window.removeEventListener(SESSION_ENDED_EVENT, onEnded);
  }, [state]);

  const login = useCallback(async (input: authApi.LoginInput) => {
    const me = await authApi.login(input);
    setUser(me);
    setState("authenticated");
    setSessionEnded(false);
    return me;
  }, []);

  const resumeSession = useCallback((me: authApi.User) => {
    setUser(me);
    setSessionEnded(false);
  }, []);

  const logout = useCallback(async () => {
    try {
      await authApi.logout();
    } finally {
      setUser(null);
      setState("anonymous");
      setSessionEnded(false);
    }
  }, []);

  const value = useMemo<AuthValue>(
    () => ({ state, user, login, logout, sessionEnded, resumeSession }),
    [state, user, login, logout, sessionEnded, resumeSession],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
