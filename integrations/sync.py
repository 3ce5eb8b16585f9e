"""The pipeline: fetch a full Exact record -> build the Monday item -> upsert -> record."""
