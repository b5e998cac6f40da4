import type { ReactNode } from "react";

export function CenteredMessage({
  children,
  role,
}: {
  children: ReactNode;
  role?: string;
}) {
  return (
    <div className="centered-message" role={role}>
      {children}
    </div>
  );
}
