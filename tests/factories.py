"""Builders for the shared test cast: plain functions with sensible defaults."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from integrations.models import (
    ConnectionStatus,
    Entity,
    ExactConnection,
    ExactDivision,
    MondayConnection,
    Route,
)

ACCESS_TOKEN = "test-access-token-AAAAAAAAAAAAAAAAAAAA"
REFRESH_TOKEN = "test-refresh-token-BBBBBBBBBBBBBBBBBBBB"
MONDAY_TOKEN = "test-monday-token-CCCCCCCCCCCCCCCCCCCC"


def make_exact_connection(*, base_url="https://start.exactonline.nl", divisions=(101,), **kw):
    now = timezone.now()
    fields = dict(
        name="Acme Exact",
        base_url=base_url,
        status=ConnectionStatus.CONNECTED,
        access_token=ACCESS_TOKEN,
        refresh_token=REFRESH_TOKEN,
        access_token_issued_at=now,
        access_token_expires_at=now + timedelta(seconds=600),
        refreshed_at=now,
        current_division=divisions[0] if divisions else None,
        exact_user_name="Anna Admin",
    )
    fields.update(kw)
    conn = ExactConnection.objects.create(**fields)
    for code in divisions:
        ExactDivision.objects.create(
            connection=conn, code=code, name=f"Division {code}", currency="EUR", selected=True
        )
    return conn


def make_monday_connection(*, api_url="https://api.monday.com/v2", **kw):
    fields = dict(
        name="Acme Monday",
        api_url=api_url,
        status=ConnectionStatus.CONNECTED,
        api_token=MONDAY_TOKEN,
        account_name="Acme",
        user_name="Anna Admin",
    )
    fields.update(kw)
    return MondayConnection.objects.create(**fields)


def make_route(exact: ExactConnection, monday: MondayConnection, **kw) -> Route:
    fields = dict(
        name="Sales invoices to Finance board",
        entity=Entity.SALES_INVOICE,
        exact_connection=exact,
        monday_connection=monday,
        board_id="1001",
        group_id="topics",
        columns={},
    )
    fields.update(kw)
    route = Route.objects.create(**fields)
    route.divisions.set(exact.divisions.all())
    return route


def make_gl_accounts(division, codes=("8000", "8100", "4000")):
    from mappings.models import GLAccount

    return [
        GLAccount.objects.create(
            division=division,
            exact_id=f"00000000-0000-0000-0000-{i:012d}",
            code=code,
            description=f"Account {code}",
        )
        for i, code in enumerate(codes, start=1)
    ]


def make_synced_record(route, *, key, gl="8000", cc="", state="flagged", number="1"):
    from integrations.models import SyncedRecord

    return SyncedRecord.objects.create(
        route=route,
        division=route.divisions.first().code,
        exact_key=key,
        exact_number=number,
        monday_item_id=f"9{number}",
        state=state,
        snapshot={"gl_account": gl, "cost_center": cc, "amount": "10.00", "currency": "EUR"},
        review_reasons=[f"GL account {gl} has no mapping for the GL account column"],
    )
