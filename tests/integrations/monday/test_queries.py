"""Every GraphQL document the project can send validates against the real Monday schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

import integrations.monday.queries as queries
from integrations.monday.batching import MAX_ALIASES, Operation, build_document

SCHEMA_PATH = Path(queries.__file__).with_name("schema.graphql")
SCHEMA = build_schema(SCHEMA_PATH.read_text())


def _errors(document: str) -> list[str]:
    return [e.message for e in validate(SCHEMA, parse(document))]


def _module_documents() -> dict[str, str]:
    """Every str constant in queries.py that is a GraphQL operation (not only DOCUMENTS)."""
    found = {
        name: value
        for name, value in vars(queries).items()
        if name.isupper()
        and isinstance(value, str)
        and value.lstrip().startswith(("query", "mutation"))
    }
    assert set(found) == set(queries.DOCUMENTS), "DOCUMENTS must list every document"
    return found


def _batch_ops(field: str, count: int) -> list[Operation]:
    args = {
        "create_item": {
            "board_id": "1",
            "group_id": "topics",
            "item_name": "n",
            "column_values": "{}",
            "create_labels_if_missing": False,
        },
        "change_multiple_column_values": {
            "board_id": "1",
            "item_id": "2",
            "column_values": "{}",
            "create_labels_if_missing": True,
        },
        "create_subitem": {"parent_item_id": "2", "item_name": "n", "column_values": "{}"},
    }[field]
    return [Operation(field, dict(args), ref=str(i)) for i in range(count)]


@pytest.mark.parametrize("name", sorted(queries.DOCUMENTS))
def test_every_document_in_queries_is_valid_for_the_monday_schema(name):
    assert _errors(_module_documents()[name]) == []


@pytest.mark.parametrize("count", [1, 10, MAX_ALIASES])
@pytest.mark.parametrize("field", sorted(queries.MUTATION_FIELDS))
def test_batch_documents_of_1_10_and_max_aliases_are_valid(field, count):
    document, variables = build_document(_batch_ops(field, count))
    assert _errors(document) == []
    assert document.count(f"{field}(") == count


def test_a_mixed_batch_with_optional_arguments_left_out_is_valid():
    ops = [
        Operation("create_item", {"board_id": "1", "item_name": "a"}, ref="a"),
        *_batch_ops("change_multiple_column_values", 2),
        *_batch_ops("create_subitem", 1),
    ]
    document, variables = build_document(ops)
    assert _errors(document) == []
    assert "m0_group_id" not in variables


def test_the_schema_validator_catches_an_invalid_document():
    # Guards the guard: a misspelt field must fail validation.
    assert _errors("query { boardz { id } }") != []


def test_the_project_schema_is_the_published_copy():
    shared = SCHEMA_PATH.parents[2].parent / "shared" / "reference" / "monday-schema.graphql"
    if shared.exists():  # on a fresh clone without ../shared the copy stands alone
        assert shared.read_text() == SCHEMA_PATH.read_text()
