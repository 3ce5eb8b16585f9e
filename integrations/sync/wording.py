"""How amounts and review reasons read on the finance screens: one spelling everywhere."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.formats import number_format

_MARKUP = re.compile(r"\*([^*]+)\*")


def format_money(amount, currency: str = "") -> str:
    """ "EUR 6,425.10": the ISO currency code, then the amount with two decimals, grouped as the
    active locale groups (Django's number formatting). Unreadable amounts are shown as given."""
    if amount is None or amount == "":
        return ""
    try:
        # Rounded here: Django's number_format cuts extra decimals off instead of rounding.
        number = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return f"{currency} {amount}".strip()
    text = number_format(number, decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{currency} {text}".strip()


def plain_reason(text: str) -> str:
    """A stored review reason without markdown emphasis (older rows carry "*Cost center*")."""
    return _MARKUP.sub(r"“\1”", text or "").replace("→", "—")


def document_kind(entity: str) -> str:
    """ "sales_invoice" -> "Sales invoice": one document of a route's entity, in words."""
    from integrations.models import Entity

    label = str(Entity(entity).label) if entity in Entity.values else entity.replace("_", " ")
    return label[:-1] if label.endswith("s") else label


def plural(count: int, one: str, many: str) -> str:
    """ "1 code", "3 codes": the count with the word that fits it."""
    return f"{count:,} {one if count == 1 else many}"
