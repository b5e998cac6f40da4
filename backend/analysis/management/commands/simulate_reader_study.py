"""Create a finished reader study read by simulated readers through the real services.

`--demo` makes the one `make demo` ships (owned by the demo study admin, once: an existing demo
simulation is kept). Without it, a new study each call with the given effects; prints its id and
the results page's path.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from analysis.simulation import reader_study_simulate
from readerstudies.models import ReaderStudy

DEMO_TITLE = "模拟研究：AI辅助骨扫描阅片（模拟阅片者）"


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="the demo's study (idempotent)")
        parser.add_argument("--admin", default="studyadmin", help="owning study admin's user name")
        parser.add_argument("--title", default="Simulated reader study")
        parser.add_argument("--readers", type=int, default=6)
        parser.add_argument("--cases", type=int, default=40)
        parser.add_argument("--time-ratio", type=float, default=0.62)
        parser.add_argument("--auc-unaided", type=float, default=0.80)
        parser.add_argument("--auc-aided", type=float, default=0.87)
        parser.add_argument("--median-unaided-s", type=float, default=246.0)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--flag-one", action="store_true", help="leave one view open too long")

    def handle(self, *args, **options):
        admin = get_user_model().objects.filter(username=options["admin"]).first()
        if admin is None:
            raise CommandError(f"No user {options['admin']!r}: run create_demo_users first.")
        title = options["title"]
        if options["demo"]:
            # 4 readers x 30 cases; 328 s median per case makes the unaided totals about the
            # source study's 164 min (and 102 min with AI).
            title = DEMO_TITLE
            options.update(readers=4, cases=30, median_unaided_s=328.0)
            existing = ReaderStudy.objects.filter(title=title).first()
            if existing is not None:
                self.stdout.write(
                    f"Demo simulated study exists: /reader-studies/{existing.pk}/results"
                )
                return
        try:
            result = reader_study_simulate(
                admin=admin,
                title=title,
                n_readers=options["readers"],
                n_cases=options["cases"],
                time_ratio=options["time_ratio"],
                auc_unaided=options["auc_unaided"],
                auc_aided=options["auc_aided"],
                median_unaided_s=options["median_unaided_s"],
                seed=options["seed"],
                flag_one_reading=options["flag_one"] or options["demo"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        study = result.reader_study
        self.stdout.write(
            f"Simulated reader study {study.pk} ({options['readers']} readers x "
            f"{options['cases']} cases x 2 arms): /reader-studies/{study.pk}/results"
        )
