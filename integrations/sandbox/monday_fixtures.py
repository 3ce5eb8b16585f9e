"""Board shapes the Monday.com sandbox offers ready-made: a finance team's invoice board."""

from __future__ import annotations

FINANCE_COLUMNS = [
    {"id": "exact_key", "title": "Exact key", "type": "text"},
    {"id": "exact_number", "title": "Exact number", "type": "text"},
    {"id": "account_name", "title": "Account", "type": "text"},
    {"id": "amount", "title": "Amount", "type": "numbers", "settings": {"unit": {"symbol": "€"}}},
    {"id": "invoice_date", "title": "Invoice date", "type": "date"},
    {"id": "due_date", "title": "Due date", "type": "date"},
    {
        "id": "status",
        "title": "Status",
        "type": "status",
        "settings": {"labels": {"0": "Open", "1": "Paid", "2": "Overdue", "3": "Credit note"}},
    },
    {
        "id": "review",
        "title": "Review",
        "type": "status",
        "settings": {"labels": {"0": "OK", "1": "Needs review"}},
    },
    {
        "id": "gl_account",
        "title": "GL account",
        "type": "dropdown",
        "settings": {
            "labels": [
                {"id": 1, "name": "8000 Revenue"},
                {"id": 2, "name": "8100 Services"},
                {"id": 3, "name": "4000 Purchases"},
            ]
        },
    },
    {
        "id": "cost_center",
        "title": "Cost center",
        "type": "dropdown",
        "settings": {"labels": [{"id": 1, "name": "KP-100"}, {"id": 2, "name": "KP-200"}]},
    },
    {"id": "exact_link", "title": "Exact link", "type": "link"},
    {"id": "description", "title": "Description", "type": "long_text"},
    {"id": "contact_email", "title": "Contact email", "type": "email"},
    {"id": "approved", "title": "Approved", "type": "checkbox"},
    {"id": "owner", "title": "Owner", "type": "people"},
]

FINANCE_GROUPS = [
    {"id": "topics", "title": "Incoming"},
    {"id": "group_review", "title": "Needs review"},
    {"id": "group_done", "title": "Done"},
]


# Which finance-board column plays which route role (the demo, the benchmark and the tests).
FINANCE_ROLES = {
    "date": "invoice_date",
    "amount": "amount",
    "account": "account_name",
    "gl_account": "gl_account",
    "cost_center": "cost_center",
    "exact_number": "exact_number",
    "exact_key": "exact_key",
    "review_flag": "review",
    "exact_link": "exact_link",
    "description": "description",
}
