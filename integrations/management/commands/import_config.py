"""python manage.py import_config file: create/update routes and mappings from an export."""

import json

from django.core.management.base import BaseCommand, CommandError

from integrations.errors import IntegrationError
from integrations.sync.config_io import import_config


class Command(BaseCommand):
    help = "Import routes and value mappings exported by export_config (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path: str, **options):
        try:
            with open(path) as fh:
                data = json.load(fh)
            counts = import_config(data)
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"Cannot import {path}: {exc}") from exc
        except IntegrationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Imported: {counts['routes_created']} route(s) created, "
            f"{counts['routes_updated']} updated, {counts['mappings']} mapping(s)."
        )
