"""Read-only HTML pages of the Monday.com sandbox, for the demo: the board list and one board.

`base` is the mount point (WSGI SCRIPT_NAME, e.g. "/monday" in server.combined_app) for links.
"""

from __future__ import annotations

from html import escape

from integrations.sandbox.monday_store import Board, Item, MondayStore

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #323338; }
table { border-collapse: collapse; margin-bottom: 1.5rem; }
th, td { border: 1px solid #d0d4e4; padding: .3rem .6rem; text-align: left; }
th { background: #f5f6f8; } tr.subitem td { background: #fafbfc; font-size: .9em; }
h2 { border-left: 6px solid #579bfc; padding-left: .5rem; }
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def render_board_list(store: MondayStore, base: str = "") -> str:
    rows = "".join(
        f"<li><a href='{escape(base)}/boards/{b.id}'>{escape(b.name)}</a> "
        f"<small>({b.id}, {len(store.live_items(b.id))} items)</small></li>"
        for b in store.boards.values()
        if b.kind == "board"
    )
    return _page("Monday.com sandbox", f"<h1>Boards</h1><ul id='boards'>{rows}</ul>")


def _cells(item: Item, cols: list[dict]) -> str:
    return "".join(
        f"<td data-column='{escape(c['id'])}'>{escape(item.texts.get(c['id'], ''))}</td>"
        for c in cols
    )


def render_board(store: MondayStore, board: Board, base: str = "") -> str:
    cols = [c for c in board.columns if c["type"] not in ("name", "subtasks")]
    sub_board = store.boards.get(board.subitems_board_id or "")
    sub_cols = [c for c in sub_board.columns if c["type"] != "name"] if sub_board else []
    head = "<tr><th>Name</th>" + "".join(f"<th>{escape(c['title'])}</th>" for c in cols) + "</tr>"
    sections = []
    for group in board.groups:
        rows = []
        for item in store.live_items(board.id):
            if item.group_id != group["id"] or item.state != "active":
                continue
            rows.append(
                f"<tr class='item' data-item-id='{item.id}'><td>{escape(item.name)}</td>"
                f"{_cells(item, cols)}</tr>"
            )
            for sub_id in item.subitem_ids:
                sub = store.items[sub_id]
                if sub.state != "active":
                    continue
                texts = "; ".join(
                    f"{escape(c['title'])}: {escape(sub.texts[c['id']])}"
                    for c in sub_cols
                    if sub.texts.get(c["id"])
                )
                rows.append(
                    f"<tr class='subitem' data-item-id='{sub.id}'><td>↳ {escape(sub.name)}</td>"
                    f"<td colspan='{max(len(cols), 1)}'>{texts}</td></tr>"
                )
        sections.append(
            f"<h2 data-group-id='{escape(group['id'])}'>{escape(group['title'])}</h2>"
            f"<table>{head}{''.join(rows)}</table>"
        )
    body = (
        f"<p><a href='{escape(base)}/'>All boards</a></p><h1>{escape(board.name)}</h1>"
        + "".join(sections)
    )
    return _page(board.name, body)
