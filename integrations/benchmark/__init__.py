"""`manage.py benchmark`: the sync's cost, speed and limits measured against the sandboxes.

Every phase runs with both sandboxes' limits on, on a simulated clock (clock.py) so waiting out a
limit costs no wall time. world.py builds the sandboxes, connections, routes and documents;
backfill.py (polling, changed sales orders, subitems), naive.py, budget.py, bursts.py (a webhook
burst, the month-end burst), rollover.py, webhook_load.py and latency.py measure; verdicts.py
holds the floors and the board tally; report.py the rows and the table; run.py lists the phases.
Never imported by production code paths.
"""
