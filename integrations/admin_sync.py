"""Admin for routes, synced records, the webhook inbox and polling cursors."""
