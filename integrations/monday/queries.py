"""Every GraphQL document ml-connector sends to Monday.com, as constants (values only as variables).

A test validates each document here, and the batches batching.py builds from MUTATION_FIELDS,
against integrations/monday/schema.graphql.
"""

from __future__ import annotations

# Asked on every call so the client can track cost and the remaining per-minute budget.
# Reference: https://developer.monday.com/api-reference/reference/complexity
COMPLEXITY = "complexity { before after query reset_in_x_seconds }"

ME = f"""
query Me {{
  me {{ id name email account {{ id name slug }} }}
  {COMPLEXITY}
}}
"""

BOARDS_PAGE = f"""
query BoardsPage($page: Int!, $limit: Int!) {{
  boards(page: $page, limit: $limit, state: active) {{
    id name type
    columns {{ id title type settings_str }}
    groups {{ id title }}
  }}
  {COMPLEXITY}
}}
"""

BOARDS_BY_ID = f"""
query BoardsById($ids: [ID!]) {{
  boards(ids: $ids) {{
    id name type
    columns {{ id title type settings_str }}
    groups {{ id title }}
  }}
  {COMPLEXITY}
}}
"""

# Reference: https://developer.monday.com/api-reference/reference/items-page-by-column-values
# Several values in one column match any of them, so one call looks up a whole batch of keys.
FIND_ITEMS_BY_COLUMN_VALUES = f"""
query FindItemsByColumnValues(
  $board_id: ID!, $column_id: String!, $values: [String]!, $limit: Int!
) {{
  items_page_by_column_values(
    board_id: $board_id, limit: $limit,
    columns: [{{column_id: $column_id, column_values: $values}}]
  ) {{
    cursor
    items {{ id name column_values(ids: [$column_id]) {{ id text }} }}
  }}
  {COMPLEXITY}
}}
"""

NEXT_ITEMS_PAGE = f"""
query NextItemsPage($cursor: String!, $limit: Int!, $column_ids: [String!]) {{
  next_items_page(cursor: $cursor, limit: $limit) {{
    cursor
    items {{ id name column_values(ids: $column_ids) {{ id text value }} }}
  }}
  {COMPLEXITY}
}}
"""

BOARD_ITEMS_PAGE = f"""
query BoardItemsPage($board_id: ID!, $limit: Int!, $column_ids: [String!]) {{
  boards(ids: [$board_id]) {{
    items_page(limit: $limit) {{
      cursor
      items {{ id name column_values(ids: $column_ids) {{ id text value }} }}
    }}
  }}
  {COMPLEXITY}
}}
"""

# Several parents in one read: `limit` as large as the ids asked (Monday's default is 25).
SUBITEMS_OF_ITEM = f"""
query SubitemsOfItem($item_ids: [ID!], $column_ids: [String!], $limit: Int) {{
  items(ids: $item_ids, limit: $limit) {{
    id
    board {{ id }}
    subitems {{ id name board {{ id }} column_values(ids: $column_ids) {{ id text }} }}
  }}
  {COMPLEXITY}
}}
"""

# A board's first subitem creates its subitems board: the answer names that board and its
# columns, so the other subitems of the same sync carry their values without a second read.
# Reference: https://developer.monday.com/api-reference/reference/subitems
CREATE_FIRST_SUBITEM = f"""
mutation CreateFirstSubitem(
  $parent_item_id: ID!, $item_name: String!, $create_labels_if_missing: Boolean
) {{
  create_subitem(
    parent_item_id: $parent_item_id, item_name: $item_name,
    create_labels_if_missing: $create_labels_if_missing
  ) {{ id board {{ id columns {{ id title type settings_str }} }} }}
  {COMPLEXITY}
}}
"""

# Reference: https://developer.monday.com/api-reference/reference/items#create-an-item
CREATE_ITEM = f"""
mutation CreateItem(
  $board_id: ID!, $group_id: String, $item_name: String!, $column_values: JSON,
  $create_labels_if_missing: Boolean
) {{
  create_item(
    board_id: $board_id, group_id: $group_id, item_name: $item_name,
    column_values: $column_values, create_labels_if_missing: $create_labels_if_missing
  ) {{ id }}
  {COMPLEXITY}
}}
"""

# Reference: monday-schema.graphql Mutation.duplicate_board (BoardDuplication { board is_async }).
# With is_async true the copy may still be filling in: read its columns again before use.
DUPLICATE_BOARD = f"""
mutation DuplicateBoard($board_id: ID!, $board_name: String) {{
  duplicate_board(
    board_id: $board_id, board_name: $board_name,
    duplicate_type: duplicate_board_with_structure
  ) {{
    is_async
    board {{ id name type columns {{ id title type settings_str }} groups {{ id title }} }}
  }}
  {COMPLEXITY}
}}
"""

ARCHIVE_ITEM = f"""
mutation ArchiveItem($item_id: ID) {{
  archive_item(item_id: $item_id) {{ id }}
  {COMPLEXITY}
}}
"""

# The aliased mutations batching.py packs into one request: field -> (argument types, selection).
# Reference: https://developer.monday.com/api-reference/reference/columns#change-multiple-column-values
MUTATION_FIELDS: dict[str, tuple[dict[str, str], str]] = {
    "create_item": (
        {
            "board_id": "ID!",
            "group_id": "String",
            "item_name": "String!",
            "column_values": "JSON",
            "create_labels_if_missing": "Boolean",
        },
        "id",
    ),
    "change_multiple_column_values": (
        {
            "board_id": "ID!",
            "item_id": "ID",
            "column_values": "JSON!",
            "create_labels_if_missing": "Boolean",
        },
        "id",
    ),
    # Reference: https://developer.monday.com/api-reference/reference/subitems
    # The first subitem of a board creates its subitem board; `board { id }` tells us which.
    "create_subitem": (
        {
            "parent_item_id": "ID!",
            "item_name": "String!",
            "column_values": "JSON",
            "create_labels_if_missing": "Boolean",
        },
        "id board { id }",
    ),
}

DOCUMENTS: dict[str, str] = {
    "ME": ME,
    "BOARDS_PAGE": BOARDS_PAGE,
    "BOARDS_BY_ID": BOARDS_BY_ID,
    "FIND_ITEMS_BY_COLUMN_VALUES": FIND_ITEMS_BY_COLUMN_VALUES,
    "NEXT_ITEMS_PAGE": NEXT_ITEMS_PAGE,
    "BOARD_ITEMS_PAGE": BOARD_ITEMS_PAGE,
    "SUBITEMS_OF_ITEM": SUBITEMS_OF_ITEM,
    "CREATE_FIRST_SUBITEM": CREATE_FIRST_SUBITEM,
    "CREATE_ITEM": CREATE_ITEM,
    "ARCHIVE_ITEM": ARCHIVE_ITEM,
    "DUPLICATE_BOARD": DUPLICATE_BOARD,
}
