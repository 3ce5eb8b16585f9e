"""`manage.py benchmark`: the sync's cost, speed and limits measured against the sandboxes.

world.py builds the sandboxes and the connections, route and mappings; backfill.py, naive.py,
budget.py, webhook_load.py and latency.py measure; report.py prints the table and the JSON.
Never imported by production code paths.
"""
