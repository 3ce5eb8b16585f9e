"""What ExactClient reads about the company around the documents: the signed-in user, the
divisions, the reference lists (GL accounts, cost centers) and the webhook subscriptions. Mixed
into ExactClient (client.py), which provides get/iter_pages/request."""

from __future__ import annotations

import uuid

from integrations.errors import RemoteUnavailable, UnexpectedResponse
from integrations.exact import odata
from integrations.exact.entities import (
    ExactCostCenter,
    ExactDivisionInfo,
    ExactGLAccount,
    ExactMe,
    parse_cost_center,
    parse_division,
    parse_gl_account,
    parse_me,
)
from integrations.exact.responses import collection, parse_json

ME_SELECT = (
    "UserID",
    "UserName",
    "FullName",
    "Email",
    "CurrentDivision",
    "DivisionCustomerName",
    "ServerUtcOffset",
)
DIVISION_SELECT = (
    "Code",
    "Description",
    "Hid",
    "Currency",
    "Country",
    "Status",
    "BlockingStatus",
    "Current",
    "DivisionMoveDate",
)
GL_ACCOUNT_SELECT = ("ID", "Code", "Description", "IsBlocked", "Timestamp")
WEBHOOK_SELECT = ("ID", "Topic", "CallbackURL", "Description", "Created", "UserID")


class CompanyReaders:
    """User, divisions, reference data and webhook subscriptions."""

    def me(self) -> ExactMe:
        """The signed-in Exact user (current/Me; not counted in the daily limit)."""
        # Reference: https://start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name=SystemSystemMe
        payload = self.get("current/Me", division=None, params={"$select": odata.select(ME_SELECT)})
        rows, _ = collection(payload)
        if not rows:
            raise UnexpectedResponse("Exact Online's current/Me answer had no user.")
        return parse_me(rows[0])

    def list_divisions(self, division: int) -> list[ExactDivisionInfo]:
        """Divisions the user can reach (system/Divisions, not limited to one licence)."""
        params = {"$select": odata.select(DIVISION_SELECT)}
        # Reference: https://start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name=SystemSystemDivisions
        return [
            parse_division(row)
            for page in self.iter_pages("system/Divisions", division=division, params=params)
            for row in page
        ]

    def list_gl_accounts(self, division: int, *, priority: str = "low") -> list[ExactGLAccount]:
        """Every GL account of the division, from sync/Financial/GLAccounts.

        financial/GLAccounts refuses an unfiltered GET (mandatory filtering, reference §3.4),
        so the whole list comes through the sync feed from the start (1,000 rows a page,
        `__next` followed). A row seen twice: the one with the higher Timestamp wins.
        """
        # Reference: https://start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name=SyncFinancialGLAccounts
        # The reference's first run uses `Timestamp gt 1L` (§5.1); 0L is as valid an Int64
        # literal and cannot miss a row whose rowversion is 1.
        params = {
            "$filter": odata.gt("Timestamp", odata.int64(0)),
            "$select": odata.select(GL_ACCOUNT_SELECT),
        }
        newest: dict[str, tuple[int, dict]] = {}
        pages = self.iter_pages(
            "sync/Financial/GLAccounts", division=division, params=params, priority=priority
        )
        for page in pages:
            for row in page:
                key, stamp = str(row["ID"]).lower(), int(row.get("Timestamp") or 0)
                if key not in newest or stamp >= newest[key][0]:
                    newest[key] = (stamp, row)
        return [parse_gl_account(row) for _, row in newest.values()]

    def list_cost_centers(self, division: int, *, priority: str = "low") -> list[ExactCostCenter]:
        """Every cost center (hrm/Costcenters: no sync feed and no mandatory filter, §5.5)."""
        return self._read_all(
            "hrm/Costcenters",
            "ID,Code,Description,EndDate",
            parse_cost_center,
            division=division,
            priority=priority,
        )

    def _read_all(self, path: str, select: str, parse, *, division: int, priority: str) -> list:
        """Every row of a small reference list (all pages), parsed."""
        pages = self.iter_pages(
            path, division=division, params={"$select": select}, priority=priority
        )
        return [parse(row) for page in pages for row in page]

    def list_webhook_subscriptions(self, division: int) -> list[dict]:
        params = {"$select": odata.select(WEBHOOK_SELECT)}
        return [
            r
            for page in self.iter_pages(
                "webhooks/WebhookSubscriptions", division=division, params=params
            )
            for r in page
        ]

    def create_webhook_subscription(self, division: int, *, topic: str, callback_url: str) -> dict:
        """Subscribe; an existing subscription ("Data already exists") is returned instead."""
        # Reference: https://start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name=WebhooksWebhookSubscriptions
        body = {"CallbackURL": callback_url, "Topic": topic, "Description": "ml-connector"}
        try:
            response = self.request(
                "POST", "webhooks/WebhookSubscriptions", division=division, json_body=body
            )
        except RemoteUnavailable as exc:
            if "already exists" not in exc.message:
                raise
            for sub in self.list_webhook_subscriptions(division):
                if sub.get("Topic") == topic and sub.get("CallbackURL") == callback_url:
                    return sub
            raise
        rows, _ = collection(parse_json(response, "webhooks/WebhookSubscriptions"))
        return rows[0] if rows else {}

    def delete_webhook_subscription(self, division: int, subscription_id: uuid.UUID | str) -> None:
        path = f"webhooks/WebhookSubscriptions({odata.guid(subscription_id)})"
        self.request("DELETE", path, division=division)
