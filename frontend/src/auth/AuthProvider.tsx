import { useCallback, useEffect, useMemo, useState, type ReactNode } from "react";
import * as authApi from "../api/auth";
import { AuthContext, type AuthValue } from "./AuthContext";
import type { AuthState } from "./guard";

/** Asks the server who is logged in once, then tracks login and logout. */
export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<authApi.User | null>(null);
  const [state, setState] = useState<AuthState>("loading");

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

  const login = useCallback(async (input: authApi.LoginInput) => {
    const me = await authApi.login(input);
    setUser(me);
    setState("authenticated");
    return me;
  }, []);

  const logout = useCallback(async () => {
    try {
      await authApi.logout();
    } finally {
      setUser(null);
      setState("anonymous");
    }
  }, []);

  const value = useMemo<AuthValue>(
    () => ({ state, user, login, logout }),
    [state, user, login, logout],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
