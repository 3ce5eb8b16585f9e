"""Pure batch building: pack aliased mutations by estimated complexity, build one document."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from integrations.monday.queries import COMPLEXITY, MUTATION_FIELDS

# Per-query ceiling is 5,000,000 points; we stay at a fifth of it so an estimate that is off by
# a factor of five still passes, and the 10,000,000 per-minute budget holds exactly ten full
# batches (at 1,500,000 only six fit, leaving 12% of each minute unused: `manage.py benchmark`).
# Reference: https://developer.monday.com/api-reference/docs/rate-limits
MAX_QUERY_COMPLEXITY = 5_000_000
DEFAULT_CEILING = 1_000_000
# Aliases per request: bounds the blast radius of a timeout and the size of one body.
MAX_ALIASES = 50
# Monday staff's weights: a mutation costs about 30,000, plus 1 per scalar and 10 per object
# selected. Unconfirmed: the exact weights; the `complexity` field of each answer is the truth.
MUTATION_COST = 30_000
REQUEST_OVERHEAD = 1_000  # the `complexity { ... }` selection and slack


@dataclass(frozen=True)
class Operation:
    """One top-level mutation field with its argument values (never pasted into the document)."""

    field: str
    args: dict[str, Any] = field(default_factory=dict)
    ref: str = ""  # the caller's handle (ItemWrite.ref) for mapping the answer back

    def __post_init__(self) -> None:
        if self.field not in MUTATION_FIELDS:
            raise ValueError(f"Unknown mutation field {self.field!r}")
        known = MUTATION_FIELDS[self.field][0]
        unknown = set(self.args) - set(known)
        if unknown:
            raise ValueError(f"Unknown arguments for {self.field}: {sorted(unknown)}")


def estimate_cost(op: Operation) -> int:
    """Estimated complexity points of one aliased mutation."""
    selection = MUTATION_FIELDS[op.field][1]
    objects = selection.count("{")
    scalars = len(selection.replace("{", " ").replace("}", " ").split()) - objects
    return MUTATION_COST + scalars + 10 * objects


# Item creates the builder packs in one request under the default ceiling (33): a batch of
# documents written in multiples of it ends in no request of a few items.
CREATES_PER_REQUEST = (DEFAULT_CEILING - REQUEST_OVERHEAD) // estimate_cost(
    Operation("create_item")
)


def pack(
    ops: list[Operation], *, ceiling: int = DEFAULT_CEILING, max_aliases: int = MAX_ALIASES
) -> list[list[Operation]]:
    """Split ops, in order, into batches whose estimated cost stays under `ceiling`."""
    batches: list[list[Operation]] = []
    current: list[Operation] = []
    cost = REQUEST_OVERHEAD
    for op in ops:
        op_cost = estimate_cost(op)
        if current and (cost + op_cost > ceiling or len(current) >= max_aliases):
            batches.append(current)
            current, cost = [], REQUEST_OVERHEAD
        current.append(op)
        cost += op_cost
    if current:
        batches.append(current)
    return batches


def batch_cost(ops: list[Operation]) -> int:
    return REQUEST_OVERHEAD + sum(estimate_cost(op) for op in ops)


def alias(index: int) -> str:
    return f"m{index}"


def build_document(ops: list[Operation]) -> tuple[str, dict[str, Any]]:
    """One mutation document with aliases m0..mN, and the variables it needs.

    Variables are named `<alias>_<argument>`; only arguments present in `op.args` are declared.
    """
    if not ops:
        raise ValueError("An empty batch has no document")
    declarations: list[str] = []
    fields: list[str] = []
    variables: dict[str, Any] = {}
    for index, op in enumerate(ops):
        name = alias(index)
        arg_types, selection = MUTATION_FIELDS[op.field]
        call_args = []
        for arg, gql_type in arg_types.items():
            if arg not in op.args:
                continue
            var = f"{name}_{arg}"
            declarations.append(f"${var}: {gql_type}")
            call_args.append(f"{arg}: ${var}")
            variables[var] = op.args[arg]
        fields.append(f"  {name}: {op.field}({', '.join(call_args)}) {{ {selection} }}")
    header = f"mutation Batch({', '.join(declarations)})"
    body = "\n".join(fields)
    return f"{header} {{\n{body}\n  {COMPLEXITY}\n}}\n", variables
