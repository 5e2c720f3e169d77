"""The search syntax (bbs.documents.query): parsing, and what SQLite FTS5 makes of it.

Property tests: any text parses; the caller's form of a parsed query parses back to
it; and FTS5 finds exactly the documents the pure-Python `Query.matches` says
(PostgreSQL is compared with the same data in tests/test_library_search.py).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bbs.documents.query import (
    MAX_TERMS,
    Phrase,
    Query,
    fts5_query,
    parse_query,
    tsquery,
)
from bbs.documents.text import search_text


def test_the_syntax() -> None:
    assert parse_query("memoire windows") == Query(
        ((Phrase(("memoire",)),), (Phrase(("windows",)),))
    )
    assert parse_query('"Mémoire insuffisante" -wk4 OU -"cc:Mail"') == Query(
        ((Phrase(("memoire", "insuffisante")),),),
        (Phrase(("wk4",)), Phrase(("cc", "mail"))),
    )
    assert parse_query("laserjet OR deskjet OU imprim* windows") == Query(
        (
            (Phrase(("laserjet",)), Phrase(("deskjet",)), Phrase(("imprim",), prefix=True)),
            (Phrase(("windows",)),),
        )
    )
    assert parse_query("1-2-3 l'ouverture") == Query(
        ((Phrase(("1", "2", "3")),), (Phrase(("l", "ouverture")),))
    )
    # Lower-case or and ou are words; OR with nothing on one side is nothing.
    assert parse_query("OR a or OU") == Query(((Phrase(("a",)),), (Phrase(("or",)),)))
    # An unclosed quote runs to the end; a star on a short word is nothing.
    assert parse_query('"a b') == Query(((Phrase(("a", "b")),),))
    assert parse_query("x*") == Query(((Phrase(("x",)),),))
    # Nothing to find: false.
    for text in ("", "-a", "--", "*", "OR", '""', "«»", "- OR -"):
        assert not parse_query(text), text


def test_engine_forms() -> None:
    query = parse_query('a "b cd"* OR d -e')
    assert fts5_query(query) == '(("a") AND ("b cd"* OR "d")) NOT "e"'
    assert tsquery(query) == "(('a')) & (('b' <-> 'cd':*) | ('d')) & !('e')"
    assert fts5_query(Query()) == tsquery(Query()) == ""


SYNTAX = st.text(alphabet="ab cdé\"«»*-OURø'.:", max_size=40)


@settings(max_examples=400, deadline=None)
@given(text=st.text(max_size=60) | SYNTAX)
def test_any_text_parses_and_its_typed_form_parses_back(text: str) -> None:
    query = parse_query(text)
    assert parse_query(query.typed()) == query
    count = sum(len(c) for c in query.clauses) + len(query.excluded)
    assert count <= MAX_TERMS


@contextlib.contextmanager
def fts_table() -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(":memory:")
    try:
        db.execute(
            "CREATE VIRTUAL TABLE t USING fts5(title, body, "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        yield db
    finally:
        db.close()


WORD = st.sampled_from(["a", "ab", "abc", "b", "ba", "c", "cé", "or", "ou"])
DOC = st.tuples(st.lists(WORD, max_size=4).map(" ".join), st.lists(WORD, max_size=10).map(" ".join))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=st.lists(DOC, min_size=1, max_size=6), text=SYNTAX)
def test_fts5_finds_what_the_query_means(docs: list[tuple[str, str]], text: str) -> None:
    query = parse_query(text)
    with fts_table() as db:
        for rowid, (title, body) in enumerate(docs, 1):
            db.execute(
                "INSERT INTO t(rowid, title, body) VALUES (?, ?, ?)",
                (rowid, search_text(title), search_text(body)),
            )
        if not query:
            return
        found = {
            row[0]
            for row in db.execute("SELECT rowid FROM t WHERE t MATCH ?", (fts5_query(query),))
        }
    expected = {
        rowid
        for rowid, (title, body) in enumerate(docs, 1)
        if query.matches([search_text(title).split(), search_text(body).split()])
    }
    assert found == expected, (text, fts5_query(query))


@pytest.mark.parametrize("text", ['"', "NEAR(a b)", "a AND", "title:a", "^a", "a:*", "(((", "\\"])
def test_engine_syntax_never_leaks_through(text: str) -> None:
    with fts_table() as db:
        query = parse_query(text)
        if query:
            db.execute("SELECT rowid FROM t WHERE t MATCH ?", (fts5_query(query),)).fetchall()
