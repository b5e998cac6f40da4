import type { ReactNode } from "react";

interface Props {
  field: string;
  ordering: string;
  onSort: (field: string) => void;
  children: ReactNode;
}

export function SortHeader({ field, ordering, onSort, children }: Props) {
  const direction =
    ordering === field ? "ascending" : ordering === `-${field}` ? "descending" : "none";
  return (
    <th aria-sort={direction}>
      <button type="button" className="sort-header" onClick={() => onSort(field)}>
        {children}
        <span className="sort-mark" aria-hidden="true">
          {direction === "ascending" ? "▲" : direction === "descending" ? "▼" : ""}
        </span>
      </button>
    </th>
  );
}
