"""Walk the README's sandbox demo in a real browser, as a newcomer would, against `make run`.

Not a pytest module (pytest collects test_*.py only): it drives the running stack
(runserver + qcluster + sandbox), so the invoice reaches the board through the real worker.

    make run &                       # in a clean clone; wait for "Admin at ..."
    .venv/bin/python tests/browser/walk_demo.py            # reads var/admin-password.txt

Prints each README step with the seconds since the start; exits non-zero at the first step
that does not do what the README says. Screenshots of a failure go to test-artifacts/.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from integrations.sandbox.monday_fixtures import FINANCE_ROLES  # noqa: E402
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

HISTORY = 192  # the demo company's seeded sales invoices (integrations/sandbox/demo.py)


def walk(page, *, app: str, sandbox: str, step, process_jobs=None) -> dict:
    """The README's steps 2-11 on a logged-in page. Returns the posted invoice's number, how
    many items the history brought and how many of them were flagged.

    `process_jobs` runs the queued jobs where no worker runs (the pytest version)."""
    page.goto(f"{sandbox}/")
    token = page.locator("#monday-token").inner_text()
    expect(page.locator("button", has_text="Post a new sales invoice")).to_have_count(3)
    step("2. sandbox page: 3 'post a new invoice' buttons and the Monday.com token")

    messages = page.locator("ul.messagelist")
    page.goto(f"{app}/admin/")
    expect(page.locator("#sandbox-banner")).to_be_visible()
    step("3. in the admin; the Sandbox banner shows")

    page.goto(f"{app}/admin/integrations/exactconnection/")
    page.click("#exact-connect")
    expect(page).to_have_title(re.compile("Exact Online sandbox"))
    page.click("#approve")
    expect(messages).to_contain_text("Connected to Exact Online as")
    boxes = page.locator("input[name$='-selected']")
    expect(boxes).to_have_count(3)
    for i in range(boxes.count()):
        boxes.nth(i).check()
    page.click("input[name=_continue]")
    expect(messages).to_contain_text("was changed successfully")
    page.click("#exact-refresh-reference")
    expect(messages).to_contain_text("Reference data refreshed")
    step("4. Exact connected via the sandbox consent page; divisions ticked; GL/CC loaded")

    page.goto(f"{app}/admin/integrations/mondayconnection/add/")
    page.fill("#id_name", "Sandbox Monday")
    page.fill("#id_token", token)
    page.click("input[name=_save]")
    expect(page.locator("#result_list")).to_contain_text("Demo Finance")
    step("5. Monday.com connected with the token")
    page.goto(f"{app}/admin/integrations/mondayboard/")
    page.get_by_role("button", name=re.compile("Refresh")).click()
    expect(messages).to_contain_text("refreshed")
    step("6. boards refreshed")

    page.goto(f"{app}/admin/integrations/route/add/")
    page.fill("#id_name", "Sales invoices")
    page.select_option("#id_entity", value="sales_invoice")
    page.select_option("#id_exact_connection", index=1)
    page.click("#id_divisions_add_all")
    page.select_option("#id_monday_connection", index=1)
    page.select_option("#id_board_id", index=1)  # Finance — sales invoices (Sandbox Monday)
    # The board's columns arrive in the role pickers, each chosen from its title: no save yet.
    for role, column in {**FINANCE_ROLES, "status": "status"}.items():
        expect(page.locator(f"#id_column_{role}")).to_have_value(column)
    page.select_option("#id_group_id", label="Incoming")
    page.click("input[name=_save]")
    expect(messages).to_contain_text("was added successfully")
    expect(messages).to_contain_text("Mapped 39 codes to the board's labels")
    expect(messages).to_contain_text("7 codes have no label of their own")
    expect(page.locator(".errornote")).to_have_count(0)
    step("7. route saved in one pass; 39 codes mapped to the board's labels, 7 left for review")

    page.goto(f"{app}/admin/integrations/route/")
    page.locator("input[name=_selected_action]").first.check()
    page.select_option("select[name=action]", value="register_webhooks")
    page.click("button[name=index]")
    expect(messages).to_contain_text("3 subscription")
    step("8. Exact webhooks registered")

    page.goto(f"{sandbox}/")
    page.locator("button", has_text="Amsterdam").click()
    number = re.search(r"Invoice (\d+)", page.locator("#posted").inner_text()).group(1)
    posted_at = time.monotonic()
    step(f"9. invoice {number} posted on the sandbox page")
    page.click("#posted a")
    row = page.locator("tr", has_text=number)
    while row.count() == 0 and time.monotonic() - posted_at < 30:
        _wait(process_jobs)
        page.reload()
    expect(row).to_have_count(1)
    expect(row).to_contain_text("OK")  # its codes are mapped: nothing to review
    cells = " | ".join(c.strip() for c in row.inner_text().split("\t")[:11])
    step(f"9. on the board {time.monotonic() - posted_at:.1f}s after posting: {cells}")

    page.goto(f"{app}/admin/integrations/route/")
    page.locator("input[name=_selected_action]").first.check()
    page.select_option("select[name=action]", value="sync_now")
    page.click("button[name=index]")
    total, started = 0, time.monotonic()
    while total < HISTORY + 1 and time.monotonic() - started < 120:
        _wait(process_jobs)
        page.goto(f"{app}/admin/integrations/syncedrecord/")
        # "1 2 193 synced records": the count is the last number, before the words.
        paginator = page.locator("p.paginator").inner_text()
        total = int(re.search(r"(\d+)\s+\D+$", paginator.strip()).group(1))
    assert total == HISTORY + 1, f"{total} items synced, expected {HISTORY + 1}"
    page.goto(f"{app}/admin/")
    page.locator("a", has_text="Review queue").first.click()
    heading = page.locator("#content h2", has_text="Flagged items")
    flagged = int(re.search(r"Flagged items: (\d+)", heading.inner_text()).group(1))
    step(f"10. Sync now: {total} items on the board, {flagged} flagged ({flagged / total:.0%})")

    fix_row = page.locator("#flagged tbody tr", has_text="P206").first
    number_fixed = fix_row.locator("td").first.inner_text().strip()
    fix_row.locator("select[name=cost_center_value]").select_option("Kralingen (P206)")
    fix_row.locator("input[type=submit]").click()
    expect(messages).to_contain_text("Re-synced 1 item: 1 cleared.")
    expect(page.locator("#flagged")).not_to_contain_text(number_fixed)
    step(f"11. flagged item {number_fixed} fixed: P206 mapped to 'Kralingen (P206)', re-synced")
    return {"number": number, "total": total, "flagged": flagged, "fixed": number_fixed}


def _wait(process_jobs) -> None:
    if process_jobs is not None:
        process_jobs()
    else:
        time.sleep(0.5)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", default="http://127.0.0.1:8000")
    parser.add_argument("--sandbox", default="http://127.0.0.1:8001")
    parser.add_argument("--password-file", default=str(ROOT / "var" / "admin-password.txt"))
    args = parser.parse_args()
    password = Path(args.password_file).read_text().strip()
    start = time.monotonic()

    def step(text: str) -> None:
        print(f"[{time.monotonic() - start:5.1f}s] {text}", flush=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)
        try:
            page.goto(f"{args.app}/admin/")
            page.fill("#id_username", "admin")
            page.fill("#id_password", password)
            page.click("input[type=submit]")
            expect(page.locator("#user-tools")).to_contain_text("admin", ignore_case=True)
            step("1. logged in as admin")
            walk(page, app=args.app, sandbox=args.sandbox, step=step)
        except Exception:
            artifacts = ROOT / "test-artifacts"
            artifacts.mkdir(exist_ok=True)
            page.screenshot(path=str(artifacts / "walk_demo-failure.png"), full_page=True)
            print(f"FAILED on {page.url}", file=sys.stderr)
            raise
        finally:
            browser.close()
    step("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
