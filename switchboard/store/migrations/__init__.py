"""Alembic migrations of the Switchboard schema, applied by :func:`switchboard.store.db.migrate`."""
