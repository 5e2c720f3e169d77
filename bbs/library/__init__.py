"""The technical-notes library: note records, the data/library file format, storage and search.

- `bbs.library.model`: `Note`, `LibraryFile`, `Library`; the product and category codes.
- `bbs.library.datafiles`: `read_library(data_dir)`, strict, errors at "path:line:".
- `bbs.library.store`: the library's rows, diffed into the database inside `bbs load`.
- `bbs.library.search`: full-text search (SQLite FTS5 / PostgreSQL tsvector) and browsing.
"""
