"""Reconciliation over a seeded company: 0 differences; 3 hand edits + 1 deletion = exactly 4."""

from datetime import date

import pytest
from django.core.management import call_command

from integrations import polling, reconcile
from integrations.models import SyncedRecord

pytestmark = pytest.mark.django_db
SINCE = date(2020, 1, 1)


def _setup(stack):
    stack.connect(divisions=((101, "Amsterdam"),))
    stack.add_reference_data()
    from tests.stack import FINANCE_ROLES

    route = stack.route(columns={**FINANCE_ROLES, "status": "status"})
    for code, label in (("8000", "8000 Revenue"), ("8100", "8100 Services")):
        stack.map(route, "gl_account", code, label)
    for code in ("KP-100", "KP-200"):
        stack.map(route, "cost_center", code, code)
    stack.exact.webhooks_enabled = False
    stack.exact.bulk_add_sales_invoices(101, 40, lines_per_invoice=3)
    polling.poll_division(route, 101)
    return route


def test_reconcile_reports_exactly_the_hand_edits_and_fix_all_clears_them(stack):
    route = _setup(stack)
    report = reconcile.reconcile(route, 101, SINCE)
    assert report.checked == 40 and report.differences == []
    items = stack.items()
    stack.monday.edit_item(items[0]["id"], "amount", "1")
    stack.monday.edit_item(items[1]["id"], "invoice_date", {"date": "1999-01-01"})
    stack.monday.edit_item(items[2]["id"], "account_name", "Someone else")
    stack.monday.delete_item(items[3]["id"])
    report = reconcile.reconcile(route, 101, SINCE)
    kinds = sorted((d.kind, tuple(d.fields)) for d in report.differences)
    assert kinds == [
        ("mismatch", ("account",)),
        ("mismatch", ("amount",)),
        ("mismatch", ("date",)),
        ("missing", ()),
    ]
    assert reconcile.fix(report) == 4
    assert reconcile.reconcile(route, 101, SINCE).differences == []
    assert len(stack.items()) == 40


def test_an_item_whose_record_is_gone_from_exact_is_reported_and_marked(stack):
    route = _setup(stack)
    key = SyncedRecord.objects.first().exact_key
    stack.exact.delete_sales_invoice(101, key)  # deleted, and the poll of sync/Deleted not run
    report = reconcile.reconcile(route, 101, SINCE)
    assert [(d.kind, d.exact_key) for d in report.differences] == [("extra", key)]
    reconcile.fix(report)
    assert SyncedRecord.objects.get(exact_key=key).state == SyncedRecord.State.DELETED
    assert reconcile.reconcile(route, 101, SINCE).differences == []


def test_reconcile_command_exits_non_zero_when_anything_is_off(stack, capsys):
    route = _setup(stack)
    call_command("reconcile", "--division", "101", "--since", "2020-01-01")
    assert "0 difference(s)" in capsys.readouterr().out
    stack.monday.edit_item(stack.items()[0]["id"], "amount", "1")
    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "reconcile", "--division", "101", "--since", "2020-01-01", "--route", str(route.pk)
        )
    assert exit_info.value.code == 1
    assert "mismatch" in capsys.readouterr().out


def test_reconcile_page_in_the_admin_lists_differences_and_fix_all_clears_them(stack, admin_client):
    from django.urls import reverse

    route = _setup(stack)
    stack.monday.edit_item(stack.items()[0]["id"], "amount", "1")
    url = reverse("admin:route_reconcile", args=[route.pk])
    page = admin_client.get(url, {"division": 101, "since": "2020-01-01"}).content.decode()
    assert "1 difference(s)" in page and "Mismatch" in page
    done = admin_client.post(
        url, {"division": 101, "since": "2020-01-01", "fix_all": "1"}
    ).content.decode()
    assert "0 difference(s)" in done
