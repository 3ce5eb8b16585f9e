"""Links a person can open: a document in Exact Online, an item in Monday.com."""

from __future__ import annotations

from django.conf import settings


def exact_record_url(base_url: str, division: int) -> str:
    # Unconfirmed: the reference documents no deep link to one document in Exact's web UI, so
    # the link opens the division in Exact Online rather than guessing a page address.
    return f"{(base_url or settings.EXACT_BASE_URL).rstrip('/')}/docs/MenuPortal.aspx?_Division_={division}"


def monday_item_url(board_id: str, item_id: str) -> str:
    if not item_id:
        return ""
    if settings.INTEGRATIONS_MODE == "sandbox":
        return f"{settings.SANDBOX_URL}/monday/boards/{board_id}"
    # Unconfirmed: monday.com redirects /boards/<id>/pulses/<id> to the account's own host.
    return f"https://monday.com/boards/{board_id}/pulses/{item_id}"
