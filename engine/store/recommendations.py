"""Catalog items, interactions and recommendation runs: schema and SQL.

Imports read a CSV, Parquet or DuckDB table through a column mapping and are checked, deduplicated and
joined against the catalog here, in DuckDB, in one transaction: a bad import changes nothing."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np

from engine.errors import RecommendError, first_line
from engine.store.sql import quote_ident

PURCHASE_EVENTS = ("purchase", "buy", "order", "bought", "checkout")
# A suggestion the user accepted in Quarry: an interaction of its own type, fitted on like a cart, never a
# test step of an evaluation (the recommender chose it: testing on it would grade the model on itself).
ACCEPT_EVENT = "accept"
FEEDBACK_EVENTS = (ACCEPT_EVENT,)
EVENT_WEIGHTS = {"view": 1.0, "click": 1.0, "cart": 2.0, "add_to_cart": 2.0, "wishlist": 2.0, "rating": 3.0,
                 "purchase": 4.0, "buy": 4.0, "order": 4.0, "bought": 4.0, "checkout": 4.0, ACCEPT_EVENT: 2.0}


def m005_recommendations(db: duckdb.DuckDBPyConnection) -> None:
    """Creates the catalog, interaction and evaluation-run tables."""
    db.execute("""
        CREATE SEQUENCE rec_run_ids START 1;
        CREATE TABLE rec_items (
            item_id VARCHAR PRIMARY KEY,
            title VARCHAR NOT NULL,
            text VARCHAR,
            category VARCHAR,
            price DOUBLE,
            attributes JSON
        );
        CREATE TABLE rec_interactions (
            user_id VARCHAR NOT NULL,
            item_id VARCHAR NOT NULL,
            event VARCHAR NOT NULL,
            weight DOUBLE NOT NULL,
            bought BOOLEAN NOT NULL,
            ts TIMESTAMP NOT NULL
        );
        CREATE TABLE rec_runs (
            id BIGINT PRIMARY KEY DEFAULT nextval('rec_run_ids'),
            source VARCHAR NOT NULL,
            users BIGINT,
            events BIGINT,
            params JSON,
            results JSON,
            created_at TIMESTAMP DEFAULT current_timestamp
        );
    """)


@dataclass
class Mapping:
    """Which source column holds what; None means "find it by its usual names"."""

    user: str | None = None
    item: str | None = None
    time: str | None = None
    event: str | None = None
    weight: str | None = None
    title: str | None = None
    text: str | None = None
    category: str | None = None
    price: str | None = None


@dataclass
class ImportReport:
    """What an import did, for the fronts to print."""

    kind: str  # items | interactions
    source: str
    rows: int = 0
    duplicates: int = 0
    unknown_items: int = 0
    users: int = 0
    items: int = 0
    before_1970: int = 0  # rows of this import dated before the epoch (often a sign of a wrong unit)
    future: int = 0  # rows of this import dated after the time of the import
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        if self.kind == "items":
            return f"{self.source}: {self.rows} catalog items imported"
        return (f"{self.source}: {self.rows} interactions of {self.users} users on {self.items} items imported"
                + (f"; {self.duplicates} duplicate events dropped" if self.duplicates else "")
                + (f"; {self.unknown_items} for items missing from the catalog (kept)" if self.unknown_items
                   else "")
                + (f"; {self.before_1970} dated before 1970" if self.before_1970 else "")
                + (f"; {self.future} dated in the future" if self.future else ""))


@dataclass
class RecCounts:
    """How much a workspace holds: catalog items, users with interactions, interactions."""

    items: int
    users: int
    events: int


@dataclass
class UserMatch:
    """A user whose id matched a search: how many interactions, and the latest one's time."""

    user_id: str
    interactions: int
    last_at: datetime


@dataclass
class ItemMatch:
    """A catalog item whose id or title matched a search."""

    item_id: str
    title: str
    category: str | None
    price: float | None


@dataclass
class HistoryEntry:
    """One of a user's interactions, with the item's title."""

    item_id: str
    title: str
    event: str
    at: datetime


@dataclass
class RecRun:
    """A stored evaluation run: where its data came from, its size, params (k, hybrid weights) and results."""

    id: int
    source: str
    users: int
    events: int
    params: dict
    results: dict
    created_at: datetime


USUAL = {
    "user": ("user_id", "user", "userid", "customer_id", "customer", "visitorid", "session_id"),
    "item": ("item_id", "item", "itemid", "product_id", "product", "sku", "movie_id", "movieid"),
    "time": ("timestamp", "ts", "time", "event_time", "datetime", "date", "created_at"),
    "event": ("event", "event_type", "type", "action"),
    "weight": ("weight", "rating", "quantity", "qty"),
    "title": ("title", "name", "product_name"),
    "text": ("text", "description", "desc", "body"),
    "category": ("category", "categories", "category_name", "genre", "genres"),
    "price": ("price", "unit_price", "list_price"),
}


def source_sql(source: str) -> tuple[str, str]:
    """Gives the SQL relation for a CSV/Parquet file or a DuckDB table name, and a label for messages."""
    path = Path(source).expanduser()
    lowered = path.name.lower()
    if path.suffix or path.exists():
        if not path.exists():
            raise RecommendError(f"{source}: no such file; give a CSV or Parquet file or a DuckDB table name")
        quoted = str(path.resolve()).replace("'", "''")
        if lowered.endswith((".parquet", ".pq")):
            return f"read_parquet('{quoted}')", path.name
        if lowered.endswith((".csv", ".tsv", ".txt")):  # DuckDB reads UTF-8 only: others from a UTF-8 copy
            from engine.documents.ingest.encoding import utf8_path
            from engine.errors import IngestError

            try:
                readable = str(utf8_path(path)[0].resolve()).replace("'", "''")
            except IngestError as exc:
                raise RecommendError(str(exc)) from None
            return f"read_csv('{readable}', header = true, sample_size = -1)", path.name
        if lowered.endswith(".csv.gz"):
            return f"read_csv('{quoted}', header = true, sample_size = -1)", path.name
        raise RecommendError(f"{source}: not a CSV or Parquet file; convert it or give a DuckDB table name")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?", source):
        raise RecommendError(f"{source}: not a file and not a table name; give a CSV/Parquet path or a table")
    return ".".join(f'"{part}"' for part in source.split(".")), source


# Which mapped columns each file holds: a --X-col flag applies to the file that has that column (MovieLens:
# --user-col names a column of ratings.csv, never of movies.csv), so a flag of the other file is left out.
OWN_KEYS = {"items": ("item", "title", "text", "category", "price"),
            "interactions": ("user", "item", "time", "event", "weight")}


def _resolve(db: duckdb.DuckDBPyConnection, relation: str, label: str, mapping: Mapping,
             required: tuple[str, ...], own: tuple[str, ...] = tuple(USUAL)) -> dict[str, str | None]:
    try:
        described = db.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except duckdb.CatalogException:
        raise RecommendError(f"{label}: no such table in this workspace; give a CSV/Parquet file or a table "
                             "name that exists") from None
    except duckdb.Error as exc:
        raise RecommendError(f"{label}: cannot be read ({first_line(exc, 160)}); check its format"
                             ) from None
    columns = [row[0] for row in described]
    by_lower = {c.lower(): c for c in columns}
    resolved: dict[str, str | None] = {}
    for key, usual in USUAL.items():
        given = getattr(mapping, key)
        if given is not None and key not in own and given not in columns and given.lower() not in by_lower:
            given = None  # a flag for the other file's column
        if given is not None:
            if given not in columns and given.lower() not in by_lower:
                raise RecommendError(f"{label}: no column '{given}' for --{key}-col; its columns are: "
                                     f"{', '.join(columns)}")
            resolved[key] = given if given in columns else by_lower[given.lower()]
            continue
        resolved[key] = next((by_lower[u] for u in usual if u in by_lower), None)
        if resolved[key] is None and key in required:
            raise RecommendError(f"{label}: no {key} column found (looked for {', '.join(usual[:4])}); name it "
                                 f"with --{key}-col; its columns are: {', '.join(columns)}")
    return resolved


class RecommendationsSQL:
    """Store methods for the catalog, interactions and evaluation runs (mixed into `Store`)."""

    db: duckdb.DuckDBPyConnection

    # -- import -------------------------------------------------------------------------------
    def rec_import_items(self, source: str, mapping: Mapping, append: bool = False) -> ImportReport:
        """Imports catalog items (replacing the catalog unless `append`); gives what it did."""
        relation, label = source_sql(source)
        cols = _resolve(self.db, relation, label, mapping, ("item",), OWN_KEYS["items"])
        title = quote_ident(cols["title"]) if cols["title"] else quote_ident(cols["item"])

        def cast(key: str, kind: str = "VARCHAR", how: str = "CAST") -> str:
            return f"{how}({quote_ident(cols[key])} AS {kind})" if cols[key] else "NULL"

        select = (f"SELECT {cast('item')} AS item_id, "
                  f"coalesce(CAST({title} AS VARCHAR), {cast('item')}) AS title, "
                  f"{cast('text')} AS text, {cast('category')} AS category, "
                  f"{cast('price', 'DOUBLE', 'TRY_CAST')} AS price, "
                  f"{self._attributes_sql(relation, cols)} AS attributes FROM {relation} "
                  f"WHERE {quote_ident(cols['item'])} IS NOT NULL")
        report = ImportReport("items", label)
        with self.writing():
            self.db.execute(f"CREATE OR REPLACE TEMP TABLE rec_staged_items AS {select}")
            n = self.db.execute("SELECT count(*) FROM rec_staged_items").fetchone()[0]
            if n == 0:
                raise RecommendError(f"{label}: no catalog items in it; give a file with one item per row")
            if not append:
                self.db.execute("DELETE FROM rec_items")
            self.db.execute("INSERT OR REPLACE INTO rec_items SELECT DISTINCT ON (item_id) * FROM rec_staged_items")
            self.db.execute("DROP TABLE rec_staged_items")
            self._bump_rec_version()
        report.rows = n
        return report

    def _attributes_sql(self, relation: str, cols: dict[str, str | None]) -> str:
        named = {c for c in cols.values() if c}
        columns = [r[0] for r in self.db.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
        rest = [c for c in columns if c not in named]
        if not rest:
            return "NULL"
        if rest == ["attributes"]:
            return "TRY_CAST(attributes AS JSON)"
        pairs = ", ".join(f"'{c.replace(chr(39), chr(39) * 2)}', {quote_ident(c)}" for c in rest)
        return f"json_object({pairs})"

    def rec_import_interactions(self, source: str, mapping: Mapping, append: bool = False) -> ImportReport:
        """Imports interactions (replacing them unless `append`), checked and deduplicated; gives what it did."""
        relation, label = source_sql(source)
        cols = _resolve(self.db, relation, label, mapping, ("user", "item", "time"), OWN_KEYS["interactions"])
        user, item, time = quote_ident(cols["user"]), quote_ident(cols["item"]), quote_ident(cols["time"])
        kind = self.db.execute(f"SELECT typeof({time}) FROM {relation} LIMIT 1").fetchone()
        if kind is None:
            raise RecommendError(f"{label}: no interactions in it; give a file with one event per row")
        if kind[0] in ("BIGINT", "INTEGER", "DOUBLE", "HUGEINT", "UBIGINT", "DECIMAL", "FLOAT"):
            # epoch seconds, or milliseconds when the numbers are that large
            ts = f"to_timestamp(CASE WHEN {time} > 1e11 THEN {time} / 1000.0 ELSE {time} END)::TIMESTAMP"
        else:
            ts = f"TRY_CAST({time} AS TIMESTAMP)"
        event = f"lower(CAST({quote_ident(cols['event'])} AS VARCHAR))" if cols["event"] else "'interaction'"
        weights = " ".join(f"WHEN '{e}' THEN {w}" for e, w in EVENT_WEIGHTS.items())
        weight = (f"coalesce(TRY_CAST({quote_ident(cols['weight'])} AS DOUBLE), 1.0)" if cols["weight"]
                  else f"CASE {event} {weights} ELSE 1.0 END")
        bought = (f"{event} IN ({', '.join(repr(e) for e in PURCHASE_EVENTS)})" if cols["event"] else "true")
        select = (f"SELECT CAST({user} AS VARCHAR) AS user_id, CAST({item} AS VARCHAR) AS item_id, "
                  f"{event} AS event, {weight} AS weight, {bought} AS bought, {ts} AS ts, "
                  f"CAST({time} AS VARCHAR) AS raw_time FROM {relation} "
                  f"WHERE {user} IS NOT NULL AND {item} IS NOT NULL")
        report = ImportReport("interactions", label)
        with self.writing():
            try:
                self.db.execute(f"CREATE OR REPLACE TEMP TABLE rec_staged AS {select}")
            except duckdb.Error as exc:
                raise RecommendError(f"{label}: cannot be read ({first_line(exc, 160)}); check the "
                                     "column mapping and the file's format") from None
            total, bad, first_bad, report.before_1970, report.future = self.db.execute(
                "SELECT count(*), count(*) FILTER (ts IS NULL), min(raw_time) FILTER (ts IS NULL), "
                "count(*) FILTER (ts < TIMESTAMP '1970-01-01'), "
                "count(*) FILTER (ts > CAST(now() AS TIMESTAMP)) FROM rec_staged").fetchone()
            if total == 0:
                raise RecommendError(f"{label}: no interactions in it; give a file with one event per row")
            if bad:
                raise RecommendError(f"{label}: {bad} of {total} timestamps in column '{cols['time']}' do not "
                                     f"parse (e.g. '{first_bad}'); give ISO times like 2026-05-01 12:00:00 "
                                     "or epoch seconds")
            if not append:  # the log is replaced; suggestions accepted in Quarry are feedback, and stay with it
                self.db.execute("DELETE FROM rec_interactions WHERE event NOT IN (SELECT unnest(?::VARCHAR[]))",
                                [list(FEEDBACK_EVENTS)])
            before = self.db.execute("SELECT count(*) FROM rec_interactions").fetchone()[0]
            self.db.execute("""
                INSERT INTO rec_interactions
                SELECT DISTINCT s.user_id, s.item_id, s.event, s.weight, s.bought, s.ts FROM rec_staged s
                WHERE NOT EXISTS (SELECT 1 FROM rec_interactions r WHERE r.user_id = s.user_id
                                  AND r.item_id = s.item_id AND r.event = s.event AND r.ts = s.ts)""")
            after = self.db.execute("SELECT count(*) FROM rec_interactions").fetchone()[0]
            report.rows = after - before
            report.duplicates = total - report.rows
            report.users, report.items = self.db.execute(
                "SELECT count(DISTINCT user_id), count(DISTINCT item_id) FROM rec_interactions").fetchone()
            report.unknown_items = self.db.execute(
                "SELECT count(*) FROM rec_interactions r WHERE NOT EXISTS "
                "(SELECT 1 FROM rec_items i WHERE i.item_id = r.item_id)").fetchone()[0]
            self.db.execute("DROP TABLE rec_staged")
            self._bump_rec_version()
        if report.duplicates:
            report.warnings.append(f"{report.duplicates} duplicate events (same user, item, event and time) "
                                   "dropped")
        if report.before_1970:
            report.warnings.append(f"{report.before_1970} interactions are dated before 1970 (negative epoch "
                                   "times?); kept in time order as stamped: check the --time-col column")
        if report.future:
            report.warnings.append(f"{report.future} interactions are dated in the future; kept in time order as"
                                   " stamped (evaluation says so): check the --time-col column")
        if report.unknown_items:
            report.warnings.append(f"{report.unknown_items} interactions name items missing from the catalog; "
                                   "kept as history (they count toward what is learned), not suggested while"
                                   " the catalog lacks them: import them in the catalog to suggest them")
        return report

    def _bump_rec_version(self) -> None:
        row = self.db.execute("SELECT value FROM state WHERE key = 'rec_version'").fetchone()
        self.db.execute("INSERT OR REPLACE INTO state VALUES ('rec_version', ?)", [str(int(row[0]) + 1 if row else 1)])

    def rec_version(self) -> int:
        """Gives a counter bumped by every import; fitted models record the value they match."""
        row = self.db.execute("SELECT value FROM state WHERE key = 'rec_version'").fetchone()
        return int(row[0]) if row else 0

    # -- reading ------------------------------------------------------------------------------
    def rec_counts(self) -> RecCounts:
        """Gives how many catalog items, users and interactions there are."""
        items = self.db.execute("SELECT count(*) FROM rec_items").fetchone()[0]
        users, events = self.db.execute("SELECT count(DISTINCT user_id), count(*) FROM rec_interactions").fetchone()
        return RecCounts(items, users, events)

    def rec_catalog(self) -> dict[str, np.ndarray]:
        """Gives every item (catalog items, then ids only seen in interactions) as column arrays, by item id."""
        return self.db.execute("""
            WITH known AS (SELECT item_id, title, text, category, price, true AS in_catalog FROM rec_items),
            extra AS (SELECT DISTINCT r.item_id, r.item_id AS title, NULL AS text, NULL AS category,
                             NULL::DOUBLE AS price, false AS in_catalog
                      FROM rec_interactions r ANTI JOIN rec_items i ON i.item_id = r.item_id)
            SELECT * FROM known UNION ALL SELECT * FROM extra ORDER BY item_id""").fetchnumpy()

    def rec_item_attributes(self, item_id: str) -> dict:
        row = self.db.execute("SELECT attributes FROM rec_items WHERE item_id = ?", [item_id]).fetchone()
        return json.loads(row[0]) if row and row[0] else {}

    def rec_category_aliases(self) -> list[tuple[str, str]]:
        """Gives (alias, category) pairs from items' attributes (`category_zh`, `category_alias`)."""
        return self.db.execute("""
            SELECT DISTINCT alias, category FROM (
                SELECT json_extract_string(attributes, '$.category_zh') AS alias, category FROM rec_items
                UNION ALL
                SELECT json_extract_string(attributes, '$.category_alias'), category FROM rec_items)
            WHERE alias IS NOT NULL AND category IS NOT NULL""").fetchall()

    def rec_sequences(self) -> dict[str, np.ndarray]:
        """Gives each user's interactions in time order, consecutive repeats of one item merged into one
        (a view, a cart and a purchase of the same thing are one step), with `step_from_end` (1 = last).

        Columns: user_id, item_id, ts (epoch seconds), weight (the run's largest), bought, feedback (the step
        is only accepted suggestions), step_from_end: counted over the other steps, so a feedback step holds
        how many of them came after it (evaluation never tests on one)."""
        events = ", ".join(f"'{e}'" for e in FEEDBACK_EVENTS)
        return self.db.execute(f"""
            WITH o AS (
                SELECT user_id, item_id, ts, weight, bought, event IN ({events}) AS feedback,
                       CASE WHEN item_id IS NOT DISTINCT FROM lag(item_id) OVER w THEN 0 ELSE 1 END AS new_run
                FROM rec_interactions WINDOW w AS (PARTITION BY user_id ORDER BY ts, item_id)),
            r AS (SELECT *, sum(new_run) OVER (PARTITION BY user_id ORDER BY ts, item_id
                                               ROWS UNBOUNDED PRECEDING) AS run FROM o),
            g AS (SELECT user_id, item_id, min(ts) AS ts, max(weight) AS weight, bool_or(bought) AS bought,
                         bool_and(feedback) AS feedback
                  FROM r GROUP BY user_id, run, item_id)
            SELECT user_id, item_id, epoch(ts)::DOUBLE AS ts, weight::FLOAT AS weight, bought, feedback,
                   sum(CASE WHEN feedback THEN 0 ELSE 1 END) OVER (
                       PARTITION BY user_id ORDER BY ts DESC, item_id DESC ROWS UNBOUNDED PRECEDING
                   )::BIGINT AS step_from_end
            FROM g ORDER BY user_id, ts, item_id""").fetchnumpy()

    def rec_find_users(self, text: str, limit: int = 200) -> list[UserMatch]:
        """Gives the users whose id contains `text`, most active first."""
        return [UserMatch(*row) for row in self.db.execute(
            "SELECT user_id, count(*) AS n, max(ts) FROM rec_interactions WHERE user_id ILIKE ? "
            "GROUP BY user_id ORDER BY n DESC, user_id LIMIT ?", [f"%{text}%", limit]).fetchall()]

    def rec_find_items(self, text: str, limit: int = 200) -> list[ItemMatch]:
        """Gives the catalog items whose id or title contains `text`."""
        return [ItemMatch(*row) for row in self.db.execute(
            "SELECT item_id, title, category, price FROM rec_items WHERE item_id ILIKE ? OR title ILIKE ? "
            "ORDER BY item_id LIMIT ?", [f"%{text}%", f"%{text}%", limit]).fetchall()]

    def rec_user_history(self, user_id: str, limit: int = 50) -> list[HistoryEntry]:
        """Gives a user's latest interactions, newest first."""
        return [HistoryEntry(*row) for row in self.db.execute(
            "SELECT r.item_id, coalesce(i.title, r.item_id), r.event, r.ts FROM rec_interactions r "
            "LEFT JOIN rec_items i USING (item_id) WHERE r.user_id = ? ORDER BY r.ts DESC LIMIT ?",
            [user_id, limit]).fetchall()]

    def rec_in_catalog(self, item_id: str) -> str | None:
        """Gives a catalog item's title; None when the item is not in the catalog (it left it, or was
        only ever seen in interactions)."""
        row = self.db.execute("SELECT title FROM rec_items WHERE item_id = ?", [item_id]).fetchone()
        return row[0] if row else None

    # -- feedback as interactions -------------------------------------------------------------
    def rec_add_interaction(self, user_id: str, item_id: str, event: str) -> datetime:
        """Adds one interaction now (an accepted suggestion) and gives its time; the next request refits."""
        weight = EVENT_WEIGHTS.get(event, 1.0)
        with self.writing():
            ts = self.db.execute(
                "INSERT INTO rec_interactions VALUES (?, ?, ?, ?, ?, CAST(now() AS TIMESTAMP)) RETURNING ts",
                [user_id, item_id, event, weight, event in PURCHASE_EVENTS]).fetchone()[0]
            self._bump_feedback_version()
        return ts

    def rec_remove_interaction(self, user_id: str, item_id: str, event: str, ts: datetime | str) -> int:
        """Removes the interactions of one user, item and event at one time (an accept undone); gives how many."""
        with self.writing():
            n = len(self.db.execute("DELETE FROM rec_interactions WHERE user_id = ? AND item_id = ? AND event = ?"
                                    " AND ts = CAST(? AS TIMESTAMP) RETURNING 1",
                                    [user_id, item_id, event, str(ts)]).fetchall())
            if n:
                self._bump_feedback_version()
        return n

    def _bump_feedback_version(self) -> None:
        # Apart from rec_version: an accepted suggestion refits the methods, but keeps the hybrid weights
        # the last evaluation tuned on the imported data.
        self.db.execute("INSERT OR REPLACE INTO state VALUES ('rec_feedback_version', ?)",
                        [str(self.rec_data_version()[1] + 1)])

    def rec_data_version(self) -> tuple[int, int]:
        """Gives (imports, accepted-suggestion changes): what a fitted recommender must match."""
        row = self.db.execute("SELECT value FROM state WHERE key = 'rec_feedback_version'").fetchone()
        return self.rec_version(), int(row[0]) if row else 0

    # -- runs ---------------------------------------------------------------------------------
    def rec_save_run(self, source: str, users: int, events: int, params: dict, results: dict) -> int:
        with self.writing():
            return self.db.execute(
                "INSERT INTO rec_runs (source, users, events, params, results) VALUES (?, ?, ?, ?, ?) RETURNING id",
                [source, users, events, json.dumps(params), json.dumps(results)]).fetchone()[0]

    def rec_runs(self, limit: int = 20) -> list[RecRun]:
        """Gives the latest evaluation runs, newest first."""
        rows = self.db.execute("SELECT id, source, users, events, params, results, created_at FROM rec_runs "
                               "ORDER BY id DESC LIMIT ?", [limit]).fetchall()
        return [RecRun(r[0], r[1], r[2], r[3], json.loads(r[4] or "{}"), json.loads(r[5] or "{}"), r[6])
                for r in rows]
