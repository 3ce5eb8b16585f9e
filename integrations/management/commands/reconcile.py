"""python manage.py reconcile --division N --since YYYY-MM-DD [--route ID] [--fix]

Exit status 0 when Exact Online and the board agree, 1 when anything is off (for alerting).
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from integrations.errors import IntegrationError
from integrations.models import Route
from integrations.sync import reconcile


class Command(BaseCommand):
    help = (
        "Compare Exact Online documents with the Monday board items; non-zero exit on differences."
    )

    def add_arguments(self, parser):
        parser.add_argument("--division", type=int, required=True)
        parser.add_argument("--since", type=date.fromisoformat, required=True)
        parser.add_argument(
            "--route", type=int, help="Route id (default: every route of the division)"
        )
        parser.add_argument("--fix", action="store_true", help="Re-sync every difference found")

    def handle(self, *args, division: int, since: date, route: int | None, fix: bool, **options):
        routes = Route.objects.filter(enabled=True, divisions__code=division).distinct()
        if route:
            routes = routes.filter(pk=route)
        if not routes:
            raise CommandError(f"No enabled route syncs division {division}.")
        differences = 0
        for r in routes:
            try:
                report = reconcile.reconcile(r, division, since)
                if fix and report.differences:
                    reconcile.fix(report)
                    report = reconcile.reconcile(r, division, since)
            except IntegrationError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"{r}: {report.checked} document(s) checked, {len(report.differences)} difference(s)"
            )
            for d in report.differences:
                detail = "; ".join(
                    f"{k}: Exact '{a}' / board '{b}'" for k, (a, b) in d.fields.items()
                )
                self.stdout.write(f"  {d.kind}\t{d.exact_number or d.exact_key}\t{detail}")
            differences += len(report.differences)
        if differences:
            raise SystemExit(1)
