"""Reconciliation over a seeded company: 0 differences; 3 hand edits + 1 deletion = exactly 4."""

from datetime import date

import pytest
from django.core.management import call_command

from integrations.models import SyncedRecord
from integrations.sync import polling, reconcile

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


def test_the_seeded_sandbox_company_reconciles_to_zero_and_back_after_hand_edits(stack):
    """The demo company (3 divisions, GL chart, cost centers, invoices and orders): 0 differences;
    3 items edited by hand on the board and 1 deleted give exactly those 4; fix all gives 0."""
    from integrations.models import ExactDivision
    from integrations.sandbox.exact_seed import DIVISIONS
    from mappings.models import CostCenter, GLAccount
    from mappings.reference import refresh_reference_data
    from tests.stack import FINANCE_ROLES

    stack.exact.seed_company(seed=7)
    stack.connect(divisions=())
    for division in ExactDivision.objects.all():
        refresh_reference_data(division)
    route = stack.route(
        columns={**FINANCE_ROLES, "status": "status"}, create_labels_if_missing=True
    )
    amsterdam = DIVISIONS[0][0]
    for gl in GLAccount.objects.filter(division__code=amsterdam):
        stack.map(route, "gl_account", gl.code, f"{gl.code} {gl.description}", division=amsterdam)
    for cc in CostCenter.objects.filter(division__code=amsterdam):
        stack.map(route, "cost_center", cc.code, cc.code, division=amsterdam)
    stack.exact.webhooks_enabled = False
    for code, _ in DIVISIONS:
        polling.poll_division(route, code)
    assert len(stack.items()) == SyncedRecord.objects.count() > 100
    reports = [reconcile.reconcile(route, code, SINCE) for code, _ in DIVISIONS]
    assert [r.differences for r in reports] == [[], [], []]
    mine = [
        i
        for i in stack.items()
        if i["texts"]["exact_key"]
        in {r.exact_key for r in SyncedRecord.objects.filter(division=amsterdam)}
    ]
    stack.monday.edit_item(mine[0]["id"], "amount", "0.01")
    stack.monday.edit_item(mine[1]["id"], "account_name", "Typo BV")
    stack.monday.edit_item(mine[2]["id"], "invoice_date", {"date": "2001-01-01"})
    stack.monday.delete_item(mine[3]["id"])
    report = reconcile.reconcile(route, amsterdam, SINCE)
    assert sorted(d.kind for d in report.differences) == [
        "mismatch",
        "mismatch",
        "mismatch",
        "missing",
    ]
    assert reconcile.fix(report) == 4
    assert all(not reconcile.reconcile(route, code, SINCE).differences for code, _ in DIVISIONS)


def test_reconcile_reads_every_board_of_a_route_that_rolled_over(stack):
    from integrations.models import Route, RouteBoard

    stack.monday.store.max_items_per_board = 20  # Monday.com's 10,000, scaled down
    stack.connect(divisions=((101, "Amsterdam"),))
    stack.add_reference_data()
    from tests.stack import FINANCE_ROLES

    route = stack.route(columns={**FINANCE_ROLES, "status": "status"}, board_item_limit=20)
    for code in ("8000", "8100"):
        stack.map(
            route, "gl_account", code, f"{code} {'Revenue' if code == '8000' else 'Services'}"
        )
    for code in ("KP-100", "KP-200"):
        stack.map(route, "cost_center", code, code)
    stack.exact.webhooks_enabled = False
    stack.exact.bulk_add_sales_invoices(101, 45, lines_per_invoice=2)
    polling.poll_division(route, 101)
    route = Route.objects.get(pk=route.pk)
    boards = [b.board_id for b in RouteBoard.objects.filter(route=route).order_by("number")]
    assert [len(stack.monday.items(b)) for b in boards] == [20, 20, 5]

    report = reconcile.reconcile(route, 101, SINCE)
    assert report.checked == 45 and report.differences == []
    assert reconcile.fix(report) == 0

    # A hand edit on the first board is found there, with that board's own columns.
    item = stack.monday.items(boards[0])[0]
    stack.monday.edit_item(item["id"], "amount", "1")
    report = reconcile.reconcile(route, 101, SINCE)
    assert [(d.kind, d.item_id, tuple(d.fields)) for d in report.differences] == [
        ("mismatch", item["id"], ("amount",))
    ]
    assert reconcile.fix(report) == 1
    assert reconcile.reconcile(route, 101, SINCE).differences == []
    assert [len(stack.monday.items(b)) for b in boards] == [20, 20, 5]
