"""Create the demo users (one per role) and print their passwords once."""

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.services import demo_users_ensure


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        rows = demo_users_ensure()
        credentials = settings.VAR_DIR / "demo-credentials.txt"
        new = [(u, r, p) for u, r, p in rows if p]
        if new:
            credentials.parent.mkdir(parents=True, exist_ok=True)
            with credentials.open("a", encoding="utf-8") as fh:
                for username, role, password in new:
                    fh.write(f"{username}\t{role}\t{password}\n")
            credentials.chmod(0o600)
        self.stdout.write("Demo users (user / role / password):")
        for username, role, password in rows:
            shown = password or f"(unchanged; see {credentials})"
            self.stdout.write(f"  {username:<12} {role:<12} {shown}")
