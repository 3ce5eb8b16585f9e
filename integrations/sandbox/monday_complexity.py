"""Complexity of a GraphQL request; the per-minute budget and request windows per token; the
daily call count per account; the names of the sandbox's limits.

Reference: ../shared/reference/monday.md "Limits": each scalar 1, each object 10, multiplied by
list sizes (`ids`/`limit`); a mutation about 30,000 (`create_item { id }` ≈ 30,001);
`items_page_by_column_values` about 100,000; at most 5,000,000 a query; 10,000,000 a minute for
personal tokens, the window resetting 60 s after its first call; about 1,000 requests a
minute on the basic plan; a daily call limit per plan.
# Unconfirmed: Monday.com's exact weights; these rules are the reference's approximation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    get_named_type,
    value_from_ast_untyped,
)
from graphql.language import DocumentNode

MUTATION_COST = 30_000
FIELD_BASE_COSTS = {"items_page_by_column_values": 100_000}
# Fields of the Mutation type that only read: charged like a query field, not as a mutation.
READ_FIELDS_OF_MUTATION = frozenset({"complexity"})
SCALAR_COST = 1
OBJECT_COST = 10
WINDOW_SECONDS = 60
# The names MondaySandbox(limits_off=...) accepts.
LIMITS = frozenset(
    {"complexity_budget", "query_ceiling", "requests_per_minute", "daily_calls", "board_items"}
)
# Daily calls of a Basic/Standard account, reset at midnight UTC (support.monday.com "API Rate
# Limits": Free/Trial 200, Basic/Standard 1,000, Pro 10,000, Enterprise 25,000). The reference
# (monday.md "Limits") says only "daily call limits by plan"; the basic plan matches its
# requests-per-minute figure.
DAILY_CALLS_BASIC = 1000


def _list_size(args: dict, field_def) -> int:
    """How many elements a field's list may hold: len(ids), else limit, else 1."""
    ids = args.get("ids")
    if isinstance(ids, list) and ids:
        return len(ids)
    if "limit" in args and isinstance(args["limit"], int):
        return max(args["limit"], 1)
    default = field_def.args.get("limit") if field_def is not None else None
    if default is not None and isinstance(default.default_value, int):
        return default.default_value
    return 1


def _arguments(node: FieldNode, variables: dict) -> dict:
    return {arg.name.value: value_from_ast_untyped(arg.value, variables) for arg in node.arguments}


def _selection_cost(selection_set, parent_type, fragments, variables) -> int:
    total = 0
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            total += _field_cost(sel, parent_type, fragments, variables)
        elif isinstance(sel, InlineFragmentNode):
            total += _selection_cost(sel.selection_set, parent_type, fragments, variables)
        elif isinstance(sel, FragmentSpreadNode):
            fragment = fragments.get(sel.name.value)
            if fragment is not None:
                total += _selection_cost(fragment.selection_set, parent_type, fragments, variables)
    return total


def _field_cost(node: FieldNode, parent_type, fragments, variables) -> int:
    name = node.name.value
    if name.startswith("__"):
        return 0
    field_def = getattr(parent_type, "fields", {}).get(name)
    if node.selection_set is None:
        return SCALAR_COST
    field_type = field_def.type if field_def is not None else None
    named = get_named_type(field_type) if field_type is not None else parent_type
    inner = _selection_cost(node.selection_set, named, fragments, variables)
    args = _arguments(node, variables)
    return FIELD_BASE_COSTS.get(name, OBJECT_COST) + _list_size(args, field_def) * inner


@dataclass(frozen=True)
class Cost:
    complexity: int
    mutations: int


def request_cost(
    schema: GraphQLSchema, document: DocumentNode, variables: dict, operation_name=None
) -> Cost:
    """The complexity of the operation that would run, and its number of mutation fields."""
    fragments = {}
    operations = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            operations.append(definition)
        else:
            fragments[definition.name.value] = definition
    operation = next(
        (o for o in operations if o.name and o.name.value == operation_name), operations[0]
    )
    if operation.operation.value == "mutation":
        root: GraphQLObjectType = schema.mutation_type
        total = 0
        count = 0
        for sel in operation.selection_set.selections:
            if isinstance(sel, FieldNode) and sel.name.value in READ_FIELDS_OF_MUTATION:
                total += _field_cost(sel, root, fragments, variables)
            elif isinstance(sel, FieldNode) and not sel.name.value.startswith("__"):
                field_def = root.fields.get(sel.name.value)
                named = get_named_type(field_def.type)
                children = (
                    _selection_cost(sel.selection_set, named, fragments, variables)
                    if sel.selection_set
                    else 0
                )
                total += MUTATION_COST + children
                count += 1
        return Cost(total, count)
    root = schema.query_type
    return Cost(_selection_cost(operation.selection_set, root, fragments, variables), 0)


class Window:
    """A fixed window that opens at its first use and resets `WINDOW_SECONDS` later."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.started_at: float | None = None
        self.used = 0

    def _roll(self, now: float) -> None:
        if self.started_at is None or now >= self.started_at + WINDOW_SECONDS:
            self.started_at = now
            self.used = 0

    def remaining(self, now: float) -> int:
        self._roll(now)
        return self.limit - self.used

    def reset_in(self, now: float) -> int:
        self._roll(now)
        return max(math.ceil(self.started_at + WINDOW_SECONDS - now), 0)

    def fits(self, now: float, amount: int) -> bool:
        self._roll(now)
        return self.used + amount <= self.limit

    def charge(self, now: float, amount: int) -> None:
        self._roll(now)
        self.used += amount


class DailyCount:
    """Calls of one account in the current UTC day."""

    def __init__(self) -> None:
        self.day: date | None = None
        self.used = 0

    def _roll(self, now: datetime) -> None:
        today = now.astimezone(UTC).date()
        if self.day != today:
            self.day, self.used = today, 0

    def fits(self, now: datetime, limit: int) -> bool:
        self._roll(now)
        return self.used < limit

    def charge(self, now: datetime) -> None:
        self._roll(now)
        self.used += 1

    def reset_in(self, now: datetime) -> int:
        """Seconds until midnight UTC."""
        midnight = datetime.combine(
            now.astimezone(UTC).date() + timedelta(days=1), datetime.min.time(), UTC
        )
        return math.ceil((midnight - now).total_seconds())
