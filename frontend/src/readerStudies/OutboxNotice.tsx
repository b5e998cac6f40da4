import { useEffect, useState } from "react";
import { getOutbox } from "../readingTimer/useReadingTimer";
import { useRsI18n } from "./messages";

/** Says so when the server refused reading-time events for good (they are set aside). */
export function OutboxNotice() {
  const { tr } = useRsI18n();
  const [count, setCount] = useState(0);
  useEffect(
    () => getOutbox().onQuarantine((items) => setCount((n) => n + items.length)),
    [],
  );
  if (count === 0) return null;
  return (
    <div className="notice" role="status" data-testid="outbox-quarantine">
      {tr("outbox.quarantined", { count })}
    </div>
  );
}
