"""Views: Exact and Monday OAuth (staff only) and the Exact webhook endpoint."""
