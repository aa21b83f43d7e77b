"""Persistence: schema, migrations, repositories and the event log (SQLite, PostgreSQL)."""
