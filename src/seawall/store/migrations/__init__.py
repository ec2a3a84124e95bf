"""Alembic migrations for the store; run them with ``await store.migrate()``."""
