import { createContext } from "react";
import type { LoginInput, User } from "../api/auth";
import type { AuthState } from "./guard";

export interface AuthValue {
  state: AuthState;
  user: User | null;
  login: (input: LoginInput) => Promise<User>;
  logout: () => Promise<void>;
  /** The server ended the session under an open page; a sign-in dialog asks to sign in again. */
  sessionEnded: boolean;
  /** The same user signed in again in that dialog: the page goes on where it was. */
  resumeSession: (me: User) => void;
}

export const AuthContext = createContext<AuthValue | null>(null);
