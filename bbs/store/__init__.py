"""Persistence: SQLAlchemy schema, Alembic migrations, loading data/ and reading snapshots.

- `bbs.store.db`: database URLs, engines, transactions, `StoreError`.
- `bbs.store.schema`: the tables; `bbs.store.mapping`: records <-> rows.
- `bbs.store.migrate`: `upgrade(url)` and friends, no alembic.ini needed.
- `bbs.store.load`: `load_directory` / `load_dir`, one diffing transaction.
- `bbs.store.snapshot`: `read_directory`, one consistent snapshot.
"""
