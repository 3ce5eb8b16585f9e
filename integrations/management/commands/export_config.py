"""python manage.py export_config [file]: routes and mappings as JSON (stdout by default)."""

import json

from django.core.management.base import BaseCommand

from integrations.sync.config_io import export_config


class Command(BaseCommand):
    help = "Export routes and value mappings as JSON (no connections, no secrets)."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default="-")

    def handle(self, *args, path: str, **options):
        text = json.dumps(export_config(), indent=2, sort_keys=True)
        if path == "-":
            self.stdout.write(text)
        else:
            with open(path, "w") as fh:
                fh.write(text + "\n")
            self.stdout.write(f"Wrote {path}")
