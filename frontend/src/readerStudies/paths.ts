/** The reader-study screens' paths (matched in router/routes.ts). */
export const MY_READING_PATH = "/reading";
export const readingPath = (readingId: string) =>
  `/reading/${encodeURIComponent(readingId)}`;
export const ADMIN_PATH = "/reader-studies";
export const adminStudyPath = (id: string) => `/reader-studies/${encodeURIComponent(id)}`;
