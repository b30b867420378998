"""SQLite store: issues, articles, paragraphs, vector windows and the FTS5 keyword index."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from qa.papers import paper_name

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS issues (
    issue_id TEXT PRIMARY KEY,
    paper TEXT, date TEXT, date_inferred INTEGER NOT NULL DEFAULT 0, page TEXT,
    source TEXT NOT NULL, sha256 TEXT NOT NULL, added_at TEXT NOT NULL,
    articles INTEGER NOT NULL, paragraphs INTEGER NOT NULL, text TEXT NOT NULL,
    paper_name TEXT
);
CREATE TABLE IF NOT EXISTS articles (
    article_id INTEGER PRIMARY KEY,
    issue_id TEXT NOT NULL REFERENCES issues(issue_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, title TEXT, kicker TEXT, subtitle TEXT, byline TEXT,
    dateline TEXT, page TEXT, sections TEXT NOT NULL, captions TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS paragraphs (
    paragraph_id INTEGER PRIMARY KEY,
    issue_id TEXT NOT NULL REFERENCES issues(issue_id) ON DELETE CASCADE,
    article_id INTEGER NOT NULL REFERENCES articles(article_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, position INTEGER NOT NULL, text TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, spans TEXT NOT NULL,
    section TEXT, truncated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS paragraphs_issue ON paragraphs(issue_id);
CREATE INDEX IF NOT EXISTS paragraphs_article ON paragraphs(article_id, ordinal);
CREATE TABLE IF NOT EXISTS vectors (
    vector_id INTEGER PRIMARY KEY,
    paragraph_id INTEGER NOT NULL REFERENCES paragraphs(paragraph_id) ON DELETE CASCADE,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS vectors_paragraph ON vectors(paragraph_id);
CREATE INDEX IF NOT EXISTS vectors_hash ON vectors(text_hash);
CREATE INDEX IF NOT EXISTS issues_date ON issues(date);
CREATE VIRTUAL TABLE IF NOT EXISTS paragraphs_fts USING fts5(tokens);
-- Paragraphs per token, kept with every write: FTS5's own counts (fts5vocab) walk whole
-- posting lists, ~30 ms a query at 1M paragraphs.
CREATE TABLE IF NOT EXISTS terms (term TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID;
"""

# Columns a search result carries, in the order `passages` selects them.
_PASSAGE_SQL = """
SELECT p.paragraph_id, p.text, p.ordinal, p.start, p."end", p.section, p.issue_id,
       i.paper, {paper_name}, i.date, i.source, a.title, a.page
FROM paragraphs p JOIN issues i USING (issue_id) JOIN articles a USING (article_id)
WHERE p.paragraph_id IN ({marks})
"""


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    """Open the store's database in WAL mode, creating the schema when writable.

    Args:
        path: the SQLite file.
        readonly: open with ``mode=ro`` so a reader can never write.

    Returns:
        The connection (autocommit off; callers use ``with conn:`` transactions).
    """
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, timeout=30)
    else:
        conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit that returned is on disk, so it always matches the fsynced vector file.
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(_SCHEMA)
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        conn.commit()
        if not _has_paper_name(conn):  # an index from before papers had names
            with conn:
                conn.execute("ALTER TABLE issues ADD COLUMN paper_name TEXT")
        if get_meta(conn).get("terms") != "1":  # an index from before the terms table
            with conn:
                _rebuild_terms(conn)
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def _has_paper_name(conn: sqlite3.Connection) -> bool:
    """Whether the issues table has the paper_name column (a read-only connection to an older
    index may lack it; a writable one adds it)."""
    return any(r[1] == "paper_name" for r in conn.execute("PRAGMA table_info(issues)"))


def _paper_name_sql(conn: sqlite3.Connection) -> str:
    """The select expression for an issue's given paper name (NULL in an index without the column)."""
    return "i.paper_name" if _has_paper_name(conn) else "NULL AS paper_name"


def get_meta(conn: sqlite3.Connection) -> dict[str, str]:
    """All key/value settings recorded in the store (model, dim, vector file, …)."""
    return dict(conn.execute("SELECT key, value FROM meta"))


def set_meta(conn: sqlite3.Connection, **values: str) -> None:
    """Record settings inside the caller's transaction."""
    conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, str(v)) for k, v in values.items()])


def issue_row(conn: sqlite3.Connection, issue_id: str) -> dict | None:
    """One issue's summary row (``paper_name`` resolved by ``qa.papers.paper_name``), or None when it is not stored."""
    cur = conn.execute(
        "SELECT issue_id, paper, date, date_inferred, page, source, sha256, added_at, articles, paragraphs,"
        f" {_paper_name_sql(conn)} FROM issues i WHERE issue_id = ?",
        (issue_id,),
    )
    row = cur.fetchone()
    return _row_dict(cur, row) if row else None


def list_issues(conn: sqlite3.Connection) -> list[dict]:
    """Every stored issue, newest date first (``paper_name`` resolved as in ``issue_row``)."""
    cur = conn.execute(
        "SELECT issue_id, paper, date, date_inferred, page, source, sha256, added_at, articles, paragraphs,"
        f" {_paper_name_sql(conn)} FROM issues i ORDER BY date DESC, issue_id"
    )
    return [_row_dict(cur, row) for row in cur.fetchall()]


def _row_dict(cur: sqlite3.Cursor, row: Sequence) -> dict:
    data = {d[0]: v for d, v in zip(cur.description, row)}
    if "date_inferred" in data:
        data["date_inferred"] = bool(data["date_inferred"])
    if "paper_name" in data:
        data["paper_name"] = paper_name(data.get("paper"), data["paper_name"])
    return data


def _fts_vocab(conn: sqlite3.Connection) -> str:
    """The name of a temporary ``fts5vocab`` table over the FTS5 index (term, doc, cnt per term)."""
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.paragraphs_vocab USING fts5vocab(main, paragraphs_fts, 'row')")
    return "temp.paragraphs_vocab"


def _rebuild_terms(conn: sqlite3.Connection) -> None:
    """Fill the terms table from the FTS5 index (once, for an index written before it existed)."""
    conn.execute("DELETE FROM terms")
    conn.execute(f"INSERT INTO terms SELECT term, doc FROM {_fts_vocab(conn)}")
    set_meta(conn, terms="1")


# What FTS5's unicode61 tokenizer keeps of a string: runs of letters and digits, case folded
# (jieba's "1.8" is indexed as "1" and "8").
_FTS_TERM = re.compile(r"[^\W_]+")


def fts_terms(text: str) -> list[str]:
    """The terms FTS5 indexes for a token string."""
    return _FTS_TERM.findall(text.lower())


def count_terms(conn: sqlite3.Connection, token_strings: Iterable[str], sign: int = 1) -> None:
    """Add (sign=1) or remove (sign=-1) paragraphs' tokens in the per-token paragraph counts.

    Args:
        conn: a connection inside the caller's transaction (the one inserting or deleting the rows).
        token_strings: one space-joined token string per paragraph, as stored in the FTS5 table.
        sign: 1 for paragraphs inserted, -1 for paragraphs deleted.
    """
    counts: dict[str, int] = {}
    for tokens in token_strings:
        for t in set(fts_terms(tokens)):
            counts[t] = counts.get(t, 0) + 1
    conn.executemany("INSERT INTO terms VALUES (?, ?) ON CONFLICT (term) DO UPDATE SET docs = docs + excluded.docs",
                     [(t, sign * n) for t, n in counts.items()])
    if sign < 0:
        conn.execute("DELETE FROM terms WHERE docs <= 0")


def delete_issue(conn: sqlite3.Connection, issue_id: str) -> list[int]:
    """Delete an issue with its articles, paragraphs, FTS rows and vector rows.

    Args:
        conn: a connection inside the caller's transaction.
        issue_id: the issue to delete.

    Returns:
        The vector ids that were deleted, to drop from the FAISS index.
    """
    vector_ids = [
        r[0]
        for r in conn.execute(
            "SELECT v.vector_id FROM vectors v JOIN paragraphs p USING (paragraph_id) WHERE p.issue_id = ?",
            (issue_id,),
        )
    ]
    count_terms(conn, (r[0] for r in conn.execute(
        "SELECT tokens FROM paragraphs_fts WHERE rowid IN (SELECT paragraph_id FROM paragraphs WHERE issue_id = ?)",
        (issue_id,))), sign=-1)
    conn.execute(
        "DELETE FROM paragraphs_fts WHERE rowid IN (SELECT paragraph_id FROM paragraphs WHERE issue_id = ?)",
        (issue_id,),
    )
    conn.execute(
        "DELETE FROM vectors WHERE paragraph_id IN (SELECT paragraph_id FROM paragraphs WHERE issue_id = ?)",
        (issue_id,),
    )
    conn.execute("DELETE FROM paragraphs WHERE issue_id = ?", (issue_id,))
    conn.execute("DELETE FROM articles WHERE issue_id = ?", (issue_id,))
    conn.execute("DELETE FROM issues WHERE issue_id = ?", (issue_id,))
    return vector_ids


def insert_issue(conn: sqlite3.Connection, row: dict) -> None:
    """Insert an issue summary row (keys as the ``issues`` columns)."""
    cols = ", ".join(row)
    conn.execute(f"INSERT INTO issues ({cols}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))


def insert_article(conn: sqlite3.Connection, row: dict) -> None:
    """Insert an article row; ``sections`` and ``captions`` are lists stored as JSON."""
    row = dict(row, sections=json.dumps(row["sections"], ensure_ascii=False),
               captions=json.dumps(row["captions"], ensure_ascii=False))
    cols = ", ".join(row)
    conn.execute(f"INSERT INTO articles ({cols}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))


def insert_paragraph(conn: sqlite3.Connection, row: dict, tokens: str) -> None:
    """Insert a paragraph row and its FTS5 token string (rowid = paragraph id); the caller
    adds the tokens to the counts with ``count_terms`` in the same transaction."""
    row = dict(row, spans=json.dumps(row["spans"]))
    cols = ", ".join(f'"{c}"' for c in row)
    conn.execute(f"INSERT INTO paragraphs ({cols}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))
    conn.execute("INSERT INTO paragraphs_fts (rowid, tokens) VALUES (?, ?)", (row["paragraph_id"], tokens))


def insert_vectors(conn: sqlite3.Connection, rows: Iterable[tuple[int, int, int, int, str]]) -> None:
    """Insert (vector_id, paragraph_id, start, end, text_hash) rows."""
    conn.executemany('INSERT INTO vectors (vector_id, paragraph_id, start, "end", text_hash) VALUES (?,?,?,?,?)', rows)


def vector_ids(conn: sqlite3.Connection) -> set[int]:
    """Every vector id the store expects the FAISS index to hold."""
    return {r[0] for r in conn.execute("SELECT vector_id FROM vectors")}


def filter_sql(date_from: str | None, date_to: str | None, paper: str | None) -> tuple[str, list]:
    """A WHERE fragment over ``issues i`` for the date range and paper filters.

    Returns:
        ("", []) when no filter is set, else (" AND …", parameters).
    """
    parts, params = [], []
    if date_from:
        parts.append("i.date >= ?")
        params.append(date_from)
    if date_to:
        parts.append("i.date <= ?")
        params.append(date_to)
    if paper:
        parts.append("i.paper = ?")
        params.append(paper)
    return ("".join(" AND " + p for p in parts), params)


def allowed_vector_ids(conn: sqlite3.Connection, date_from: str | None, date_to: str | None,
                       paper: str | None) -> list[int] | None:
    """The vector ids that pass the filters, or None when no filter is set."""
    where, params = filter_sql(date_from, date_to, paper)
    if not where:
        return None
    sql = ("SELECT v.vector_id FROM vectors v JOIN paragraphs p USING (paragraph_id)"
           " JOIN issues i USING (issue_id) WHERE 1=1" + where)
    return [r[0] for r in conn.execute(sql, params)]


# Tokens in more paragraphs than this (and than this share of them) are left out of a keyword
# query when it has others: their BM25 weight is near nil, but ranking every paragraph that holds
# them is most of a query's time at archive scale (中国 is in 23k of 100k paragraphs: 28 ms → see README).
COMMON_TOKEN_DOCS = 5000
COMMON_TOKEN_SHARE = 0.05
# Paragraphs the rarer tokens of a query may hold together before the others are matched only
# beside them (see ``keyword_search``): 30 ms instead of ~95 ms a query at 1M paragraphs, with
# the same top 20 on the development questions (bench/keyword_bench.py).
RARE_TOKEN_ROWS = 15000


def term_docs(conn: sqlite3.Connection, tokens: list[str]) -> dict[str, int]:
    """How many paragraphs hold each token (tokens in none are left out).

    Args:
        conn: the store connection.
        tokens: query tokens.

    Returns:
        Paragraph count per token found.
    """
    parts = {t: fts_terms(t) for t in tokens}
    terms = sorted({x for ps in parts.values() for x in ps})
    if not terms:
        return {}
    marks = ",".join("?" * len(terms))
    if get_meta(conn).get("terms") == "1":
        found = dict(conn.execute(f"SELECT term, docs FROM terms WHERE term IN ({marks})", terms))
    else:  # a read-only connection to an index written before the terms table: FTS5's own (slow) counts
        found = dict(conn.execute(f"SELECT term, doc FROM {_fts_vocab(conn)} WHERE term IN ({marks})", terms))
    # A token FTS5 splits ("1.8") is a phrase: in at most as many paragraphs as its rarest part.
    docs = {t: min(found.get(x, 0) for x in ps) for t, ps in parts.items() if ps}
    return {t: n for t, n in docs.items() if n}


def paragraph_count(conn: sqlite3.Connection) -> int:
    """Paragraphs in the store (from the small issues table)."""
    return conn.execute("SELECT coalesce(sum(paragraphs), 0) FROM issues").fetchone()[0]


def informative_tokens(conn: sqlite3.Connection, tokens: list[str]) -> list[str]:
    """The query tokens worth matching: very common ones dropped at archive scale (see above)."""
    if len(tokens) < 2:
        return tokens
    return _drop_common(tokens, term_docs(conn, tokens), paragraph_count(conn))


def _drop_common(tokens: list[str], docs: dict[str, int], total: int) -> list[str]:
    """``informative_tokens`` for known counts: all of them when every token is common."""
    limit = max(COMMON_TOKEN_DOCS, COMMON_TOKEN_SHARE * total)
    kept = [t for t in tokens if docs.get(t, 0) <= limit]
    return kept or tokens


def split_rare(tokens: list[str], docs: dict[str, int], budget: int | None = None) -> tuple[list[str], list[str]]:
    """Split query tokens into the rarest ones and the rest, each in the query's order.

    Args:
        tokens: query tokens.
        docs: paragraphs per token (``term_docs``).
        budget: paragraphs the rare tokens may hold together (at least one token is rare);
            None for ``RARE_TOKEN_ROWS``.

    Returns:
        (rare, common).
    """
    budget = RARE_TOKEN_ROWS if budget is None else budget
    rare, rows = set(), 0
    for t in sorted(tokens, key=lambda t: docs.get(t, 0)):
        if rare and rows + docs.get(t, 0) > budget:
            break
        rare.add(t)
        rows += docs.get(t, 0)
    return [t for t in tokens if t in rare], [t for t in tokens if t not in rare]


def keyword_search(conn: sqlite3.Connection, tokens: list[str], k: int, date_from: str | None = None,
                   date_to: str | None = None, paper: str | None = None) -> list[tuple[int, float]]:
    """BM25 search over the FTS5 table (an OR of the informative tokens, see ``informative_tokens``),
    filters applied inside the query.

    FTS5 scores every row that matches, ~1 µs each, so tokens held by 100k of 1M paragraphs
    cost ~100 ms. When they do, two smaller queries give the same scores to every paragraph
    that holds one of the rarer tokens (``split_rare``):

    - ``rare1 OR rare2``: exact for the rows holding no other query token;
    - ``(common1 OR common2) AND (rare1 OR rare2)``: each token once, so the full query's BM25.

    A row keeps the second score where it has one; the top k of the merge is the top k of
    every row holding a rare token. Paragraphs holding only common tokens are not ranked.

    Args:
        conn: the store connection.
        tokens: distinct search tokens (see ``qa.tokens.query_tokens``).
        k: how many paragraphs to return.
        date_from, date_to, paper: optional filters.

    Returns:
        (paragraph_id, score) pairs, best first; score is ``-bm25`` so larger is better.
    """
    from qa.tokens import fts_query

    if not tokens:
        return []
    docs = term_docs(conn, tokens)  # one lookup serves both the common-token drop and the split
    if len(tokens) > 1:
        tokens = _drop_common(tokens, docs, paragraph_count(conn))
    rare, common = split_rare(tokens, docs)
    rare_match = fts_query(rare)
    scores = dict(_bm25(conn, rare_match, k, date_from, date_to, paper))
    if common:
        scores.update(_bm25(conn, f"({fts_query(common)}) AND ({rare_match})", k, date_from, date_to, paper))
    return sorted(scores.items(), key=lambda kv: -kv[1])[:k]


def _bm25(conn: sqlite3.Connection, match: str, k: int, date_from: str | None, date_to: str | None,
          paper: str | None) -> list[tuple[int, float]]:
    """The top k rows for one FTS5 MATCH expression, as (paragraph_id, -bm25)."""
    where, params = filter_sql(date_from, date_to, paper)
    if where:
        sql = ("SELECT f.rowid, -bm25(paragraphs_fts) AS s FROM paragraphs_fts f"
               " JOIN paragraphs p ON p.paragraph_id = f.rowid JOIN issues i USING (issue_id)"
               " WHERE paragraphs_fts MATCH ?" + where + " ORDER BY bm25(paragraphs_fts) LIMIT ?")
    else:
        sql = ("SELECT rowid, -bm25(paragraphs_fts) AS s FROM paragraphs_fts"
               " WHERE paragraphs_fts MATCH ? ORDER BY bm25(paragraphs_fts) LIMIT ?")
    return [(r[0], r[1]) for r in conn.execute(sql, [match, *params, k])]


def vector_paragraphs(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, int]:
    """Map vector ids to their paragraph ids."""
    out: dict[int, int] = {}
    for chunk in _chunks(list(ids), 900):
        marks = ",".join("?" * len(chunk))
        out.update(conn.execute(f"SELECT vector_id, paragraph_id FROM vectors WHERE vector_id IN ({marks})", chunk))
    return out


def window_texts(conn: sqlite3.Connection, vector_ids: Sequence[int]) -> list[tuple[int, str]]:
    """(vector_id, the window's text) for stored vector rows, to embed them again."""
    out = []
    for chunk in _chunks(list(vector_ids), 900):
        out += [(vid, text[start:end]) for vid, text, start, end in conn.execute(
            'SELECT v.vector_id, p.text, v.start, v."end" FROM vectors v JOIN paragraphs p USING (paragraph_id)'
            f" WHERE v.vector_id IN ({','.join('?' * len(chunk))})", chunk)]
    return out


def passages(conn: sqlite3.Connection, paragraph_ids: Sequence[int]) -> dict[int, dict]:
    """Citation metadata of paragraphs (``paper_name`` resolved as in ``issue_row``), keyed by paragraph id."""
    out: dict[int, dict] = {}
    name_sql = _paper_name_sql(conn)
    for chunk in _chunks(list(paragraph_ids), 900):
        cur = conn.execute(_PASSAGE_SQL.format(marks=",".join("?" * len(chunk)), paper_name=name_sql), chunk)
        for row in cur.fetchall():
            pid, text, ordinal, start, end, section, issue_id, paper, given_name, date, source, title, page = row
            out[pid] = {
                "text": text, "paper": paper, "paper_name": paper_name(paper, given_name), "date": date, "title": title, "paragraph": ordinal,
                "section": section, "page": page, "issue_id": issue_id, "paragraph_id": pid,
                "source": source, "start": start, "end": end,
            }
    return out


def article_texts(conn: sqlite3.Connection, paragraph_ids: Sequence[int]) -> dict[int, str]:
    """The whole article around each paragraph (paper, title, subtitle, dateline, every paragraph), by paragraph id."""
    out: dict[int, str] = {}
    for pid in dict.fromkeys(paragraph_ids):
        row = conn.execute(
            "SELECT a.article_id, i.paper, a.title, a.subtitle, a.dateline FROM paragraphs p"
            " JOIN articles a USING (article_id) JOIN issues i ON i.issue_id = p.issue_id WHERE p.paragraph_id = ?",
            (pid,)).fetchone()
        if row is None:
            continue
        body = [t for (t,) in conn.execute("SELECT text FROM paragraphs WHERE article_id = ? ORDER BY ordinal", (row[0],))]
        out[pid] = "\n".join(x for x in (*row[1:], *body) if x)
    return out


def issue_text(conn: sqlite3.Connection, issue_id: str) -> str:
    """All paragraphs and headlines of one issue, joined by newlines."""
    titles = [t for (t,) in conn.execute("SELECT title FROM articles WHERE issue_id = ? AND title IS NOT NULL", (issue_id,))]
    body = [t for (t,) in conn.execute("SELECT text FROM paragraphs WHERE issue_id = ? ORDER BY position", (issue_id,))]
    return "\n".join(titles + body)


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]
