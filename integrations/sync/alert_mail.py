"""The words of the alert emails: subjects and plain-text bodies with absolute links. Pure:
values in, text out. Never given a token, so none can appear in a mail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from integrations.sync.wording import format_money, plain_reason, plural

# The longest list a mail carries; the rest is a count and the link to the whole list.
LISTED = 25


def absolute(path: str) -> str:
    """A link a mail reader can open: PUBLIC_BASE_URL + the admin path."""
    return f"{settings.PUBLIC_BASE_URL}{path}"


def when(value: datetime) -> str:
    """ "30 Nov 2026, 14:05 CET": local time with its zone, as the admin shows it."""
    return timezone.localtime(value).strftime("%d %b %Y, %H:%M %Z")


def footer(why: str) -> str:
    link = absolute(reverse("admin:integrations_alertpreferences_mine"))
    return (
        f"\n--\nYou receive this because {why}.\nSwitch these emails off under My alerts: {link}\n"
    )


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str  # everything but the greeting and the footer


def connection_needs_reauth(name: str, reason: str, change_path: str) -> Mail:
    body = (
        f"The Exact Online connection “{name}” needs to be authorized again.\n"
        "Until it is, nothing is read from Exact Online for its divisions. Change notices that "
        "arrive meanwhile wait and are processed once it is back; polling catches up the rest.\n"
    )
    if reason:
        body += f"\nWhat Exact Online answered: {plain_reason(reason)}\n"
    body += f"\nOpen the connection and click Re-authorize:\n{absolute(change_path)}\n"
    return Mail(f"Exact Online connection “{name}” needs re-authorization", body)


def connection_expiring(name: str, idle_days: int, days_left: int, change_path: str) -> Mail:
    left = plural(days_left, "day", "days")
    body = (
        f"The Exact Online connection “{name}” was last renewed {plural(idle_days, 'day', 'days')}"
        f" ago. Exact Online ends a connection after 30 days without renewal: {left} left.\n"
        "The nightly keep-alive renews it on its own when a worker runs; that it has not "
        "suggests no worker (qcluster) is running, or the renewal fails.\n"
        f"\nCheck the connection (Test connection, or Re-authorize):\n{absolute(change_path)}\n"
    )
    return Mail(f"Exact Online connection “{name}” expires in {left}", body)


def monday_needs_attention(name: str, reason: str, change_path: str) -> Mail:
    body = (
        f"The Monday.com connection “{name}” stopped working, so nothing is written to its "
        "boards. Change notices wait and are processed once it is back.\n"
    )
    if reason:
        body += f"\nWhat Monday.com answered: {plain_reason(reason)}\n"
    body += (
        f"\nOpen the connection and enter a new token (or reconnect):\n{absolute(change_path)}\n"
    )
    return Mail(f"Monday.com connection “{name}” needs attention", body)


@dataclass(frozen=True)
class DeadNotice:
    at: datetime
    what: str  # "Sales invoice 20260042 changed in division 101 Amsterdam"
    error: str


def dead_events(notices: list[DeadNotice], total: int, queue_path: str) -> Mail:
    """notices: the first LISTED of `total`."""
    count = plural(total, "change notice", "change notices")
    lines = [
        f"{count} from Exact Online could not be processed after repeated attempts. "
        f"{'It waits' if total == 1 else 'They wait'} with the error in the review queue; "
        "Retry sends one through again once the cause is fixed.",
        "",
    ]
    for notice in notices:
        lines.append(f"- {when(notice.at)}: {notice.what}")
        if notice.error:
            lines.append(f"  {plain_reason(notice.error)}")
    if total > len(notices):
        lines.append(f"- and {plural(total - len(notices), 'more', 'more')}")
    lines += ["", f"Review and retry them here:\n{absolute(queue_path)}#dead-events", ""]
    return Mail(f"{count} from Exact Online failed", "\n".join(lines))


@dataclass(frozen=True)
class DigestItem:
    pk: int
    number: str
    customer: str
    amount: str
    route: str
    reasons: tuple[str, ...]


def digest_item(rec) -> DigestItem:
    snap = rec.snapshot or {}
    reasons = tuple(plain_reason(r) for r in (rec.review_reasons or [rec.last_error]) if r)
    return DigestItem(
        pk=rec.pk,
        number=rec.exact_number or rec.exact_key,
        customer=str(snap.get("account") or ""),
        amount=format_money(snap.get("amount"), snap.get("currency") or ""),
        route=rec.route.name,
        reasons=reasons,
    )


def row_link(queue_path: str, item: DigestItem) -> str:
    """The review queue searched for the item's number, scrolled to its row."""
    return absolute(f"{queue_path}?{urlencode({'q': item.number})}#record-{item.pk}")


def daily_digest(items: list[DigestItem], total: int, waiting: int, since, queue_path) -> Mail:
    new = plural(total, "item was", "items were")
    lines = [f"{new} flagged for review since {when(since)}.", ""]
    for item in items:
        who = " · ".join(x for x in (item.customer, item.amount) if x)
        lines.append(f"- {item.number}{' · ' + who if who else ''} ({item.route})")
        lines += [f"  {reason}" for reason in item.reasons]
        lines.append(f"  {row_link(queue_path, item)}")
    if total > len(items):
        lines.append(f"- and {plural(total - len(items), 'more', 'more')}")
    lines += [
        "",
        f"In all, {plural(waiting, 'item waits', 'items wait')} in the review queue:",
        absolute(queue_path),
        "",
    ]
    subject = f"Review digest: {plural(total, 'newly flagged item', 'newly flagged items')}"
    return Mail(subject, "\n".join(lines))
