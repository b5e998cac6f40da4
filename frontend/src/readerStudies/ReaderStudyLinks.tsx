import { Link } from "../router/Link";
import { useRsI18n } from "./messages";
import { ADMIN_PATH, MY_READING_PATH } from "./paths";

/** The top bar's reader-study entries for the user's role. */
export function ReaderStudyLinks({ role }: { role: string | null }) {
  const { tr } = useRsI18n();
  if (role === "reader") {
    return (
      <Link to={MY_READING_PATH} data-testid="nav-my-reading">
        {tr("nav.myReading")}
      </Link>
    );
  }
  if (role === "study_admin" || role === "admin") {
    return (
      <Link to={ADMIN_PATH} data-testid="nav-reader-studies">
        {tr("nav.readerStudies")}
      </Link>
    );
  }
  return null;
}
