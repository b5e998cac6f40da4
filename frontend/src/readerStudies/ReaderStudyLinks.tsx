import { Link } from "../router/Link";
import { useRsI18n } from "./messages";
import { ADMIN_PATH, MY_READING_PATH } from "./paths";

/** The top bar's reader-study entries for the roles the user holds (their rights add up). */
export function ReaderStudyLinks({ roles }: { roles: readonly string[] }) {
  const { tr } = useRsI18n();
  return (
    <>
      {roles.includes("reader") && (
        <Link to={MY_READING_PATH} data-testid="nav-my-reading">
          {tr("nav.myReading")}
        </Link>
      )}
      {(roles.includes("study_admin") || roles.includes("admin")) && (
        <Link to={ADMIN_PATH} data-testid="nav-reader-studies">
          {tr("nav.readerStudies")}
        </Link>
      )}
    </>
  );
}
