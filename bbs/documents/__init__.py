"""The document store the library and the Knowledge base share: query syntax, text, rows, search.

- `bbs.documents.query`: the search syntax callers type, and its SQL forms.
- `bbs.documents.text`: folded search text, snippets, DOS text files.
- `bbs.documents.store`: a `Collection` of documents: rows, sync and full-text search.
"""
