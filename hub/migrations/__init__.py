"""Alembic migrations of the hub's database (see ``hub.migrate``, which runs them)."""
