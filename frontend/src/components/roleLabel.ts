import type { Translate } from "../i18n/translate";
import type { MessageKey } from "../i18n/messages";

const ROLE_KEYS: Record<string, MessageKey> = {
  physician: "role.physician",
  reader: "role.reader",
  study_admin: "role.study_admin",
  admin: "role.admin",
};

export function roleLabel(role: string, t: Translate): string {
  const key = ROLE_KEYS[role];
  return key ? t(key) : role;
}
