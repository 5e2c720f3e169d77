"""Persistence: SQLAlchemy schema, Alembic migrations, loading data/ and reading snapshots."""
