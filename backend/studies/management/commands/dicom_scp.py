"""`manage.py dicom_scp --port 11112 --ae-title BONEREAD`: the C-STORE / C-ECHO receiver."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.management.base import BaseCommand

from studies.dicom_scp import scp_start


class Command(BaseCommand):
    help = "Run the DICOM C-STORE receiver (also answers C-ECHO) until interrupted."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=settings.DICOM_SCP_PORT)
        parser.add_argument("--ae-title", default=settings.DICOM_SCP_AE_TITLE)
        parser.add_argument("--host", default="0.0.0.0", help="address to listen on")

    def handle(self, *args, **options):
        # pynetdicom logs every PDU and request at INFO: only with -v 2 or more.
        logging.getLogger("pynetdicom").setLevel(
            logging.INFO if options["verbosity"] >= 2 else logging.WARNING
        )
        self.stdout.write(
            f"C-STORE receiver {options['ae_title']} on {options['host']}:{options['port']} "
            "(Ctrl-C stops it)"
        )
        try:
            scp_start(port=options["port"], ae_title=options["ae_title"], host=options["host"])
        except KeyboardInterrupt:
            self.stdout.write("stopped")
