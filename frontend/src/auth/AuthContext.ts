import { createContext } from "react";
import type { LoginInput, User } from "../api/auth";
import type { AuthState } from "./guard";

export interface AuthValue {
  state: AuthState;
  user: User | null;
  login: (input: LoginInput) => Promise<User>;
  logout: () => Promise<void>;
}

export const AuthContext = createContext<AuthValue | null>(null);
