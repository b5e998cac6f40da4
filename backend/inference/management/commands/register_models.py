"""Register model releases as ModelVersion rows (the shipped ones by default); idempotent."""

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import ApplicationError
from inference.services import model_version_register, models_register_shipped


class Command(BaseCommand):
    help = "Register MODEL_DIR/<task> releases (or PATH ...) as model versions; verifies sha256."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="release directories (default: shipped)")
        parser.add_argument("--activate", action="store_true", help="make them active")
        parser.add_argument("--name", default="", help="name (default from config.json)")
        parser.add_argument("--label", dest="model_version", default="", help="version label")

    def handle(self, *args, **options):
        try:
            if options["paths"]:
                results = [
                    model_version_register(
                        path=path,
                        name=options["name"],
                        version=options["model_version"],
                        activate=True if options["activate"] else None,
                    )
                    for path in options["paths"]
                ]
            else:
                results = models_register_shipped()
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        if not results:
            self.stdout.write("no model releases found")
        for model_version, created in results:
            self.stdout.write(
                f"{'registered' if created else 'already registered'}: {model_version} "
                f"sha256 {model_version.checksum[:12]}"
            )
