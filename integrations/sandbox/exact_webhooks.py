"""Webhook subscriptions and signed notifications of the Exact Online sandbox (reference §7).

Subscriptions are per division and topic; a duplicate answers 500 "Data already exists"; after
a create the callback receives an empty validation POST, and a non-2xx answer fails the create
with 500 "Invalid: Post to callback URL endpoint returns …" (§7.2). Notifications carry only the
key, are compact JSON with `/` escaped, and are signed with HMAC-SHA256 in upper-case hex (§7.4).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from integrations.sandbox.exact_odata import ODataError
from integrations.sandbox.exact_schema import TOPICS
from integrations.sandbox.exact_wire import event_time, webhook_body

logger = logging.getLogger(__name__)

# Confirmed and reported topics (§7.3); GLAccounts, PurchaseInvoices, cost centers are not.
KNOWN_TOPICS = {
    "SalesInvoices",
    "SalesOrders",
    "Accounts",
    "Items",
    "StockPositions",
    "GoodsDeliveries",
    "FinancialTransactions",
    "SalesEntries",
    "PurchaseEntries",
    "GeneralJournalEntries",
    "Documents",
    "PurchaseOrders",
    "CostTransactions",
    "TimeTransactions",
    "Quotations",
    "BankAccounts",
    "Contacts",
    "BankEntries",
    "CashEntries",
    "Subscriptions",
}
TOPIC_PATHS = {
    "SalesInvoices": "salesinvoice/SalesInvoices",
    "PurchaseOrders": "purchaseorder/PurchaseOrders",
    "SalesOrders": "salesorder/SalesOrders",
    "Accounts": "crm/Accounts",
}


def check_new(body: object, existing: list[dict], division: int) -> tuple[str, str, str]:
    """Validate a create body; returns (CallbackURL, Topic, Description)."""
    if not isinstance(body, dict):
        raise ODataError(400, "The request body is not a valid JSON object.")
    url, topic = body.get("CallbackURL"), body.get("Topic")
    if not url:
        raise ODataError(400, "Mandatory: CallbackURL")
    if not topic:
        raise ODataError(400, "Mandatory: Topic")
    if topic not in KNOWN_TOPICS:
        raise ODataError(400, f"Invalid topic: {topic}")  # Unconfirmed: exact wording
    if body.get("IsInstant") and topic != "GoodsDeliveries":
        raise ODataError(400, "IsInstant is only allowed for topic GoodsDeliveries")
    if any(s["Topic"] == topic and s["Division"] == division for s in existing):
        raise ODataError(500, "Data already exists")
    return url, topic, body.get("Description") or ""


# Unconfirmed (§7.2): Exact pings "around" the create; the sandbox pings during it, so a
# failing callback fails the create and nothing is stored.
def validate_callback(transport: Callable[[str, bytes], int], url: str) -> None:
    """The empty POST Exact sends around the create call (§7.2)."""
    try:
        status = transport(url, b"")
    except Exception as exc:  # any transport failure fails the create, as on Exact
        logger.info("exact_sandbox.webhook.validation_failed", extra={"error": type(exc).__name__})
        raise ODataError(
            500,
            "Invalid: Post to callback URL endpoint returns 500 An error "
            "occurred while sending the request.",
        ) from exc
    if not 200 <= status < 300:
        raise ODataError(500, f"Invalid: Post to callback URL endpoint returns {status}")


def notifications(
    events, subscriptions: list[dict], *, client_id: str, base_url: str, now: datetime, sign
) -> list[dict]:
    """One signed delivery per (event, matching subscription)."""
    out = []
    for division, source, action, key in events:
        topic = TOPICS.get(source.split(":")[0])
        if topic is None:
            continue
        endpoint = f"{base_url}/api/v1/{division}/{TOPIC_PATHS[topic]}(guid'{key}')"
        content = {
            "Topic": topic,
            "ClientId": client_id,
            "Division": division,
            "Action": action,
            "Key": key,
            "ExactOnlineEndpoint": endpoint,
            "EventCreatedOn": event_time(now),
        }
        for sub in subscriptions:
            if sub["Division"] == division and sub["Topic"] == topic:
                out.append(
                    {
                        "url": sub["CallbackURL"],
                        "topic": topic,
                        "action": action,
                        "key": key,
                        "division": division,
                        "body": webhook_body(content, sign),
                    }
                )
    return out


def default_transport(url: str, body: bytes) -> int:
    import requests

    response = requests.post(
        url, data=body, timeout=10, headers={"Content-Type": "application/json"}
    )
    return response.status_code
