"""Role checks of the audit trail: only admins read or export it."""

from accounts.permissions import IsAdminRole

CanReadAudit = IsAdminRole
