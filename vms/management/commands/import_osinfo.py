"""`manage.py import_osinfo`: the OS catalogue from osinfo-db, and the instance types."""

from pathlib import Path

from django.core.management.base import BaseCommand

from vms import osinfo
from vms.services.catalog import instance_types_seed, operating_systems_import, osinfo_default_roots


class Command(BaseCommand):
    help = (
        "Import the OS catalogue from osinfo-db (/usr/share/osinfo, then var/osinfo/) "
        "and seed the instance types. Idempotent: set-up runs it every time."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--path", dest="paths", action="append", type=Path, metavar="DIR",
            help="An osinfo tree to read instead of the defaults; repeat it, later trees "
                 "override earlier ones by short-id.",
        )  # fmt: skip

    def handle(self, *args, paths, **options):
        roots = paths or osinfo_default_roots()
        result = operating_systems_import(roots=roots)
        seeded = instance_types_seed()
        if not result.from_osinfo:
            where = ", ".join(str(root) for root in roots)
            hint = " (install the osinfo-db package)" if osinfo.DEFAULT_ROOT in roots else ""
            self.stdout.write(f"No osinfo-db OS found in {where}{hint}: importing the built-in ones only.")
        changes = f"{result.created} new, {result.updated} updated" if result.created or result.updated else "no changes"
        self.stdout.write(
            f"OS catalogue: {result.total} operating systems ({result.from_osinfo} from osinfo-db, "
            f"{result.builtin} built in), {changes}, {result.seconds:.1f} s; "
            f"instance types: {seeded} seeded"
        )
