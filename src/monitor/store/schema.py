"""The archive's schema, as sqlite-utils migrations applied in order at start (issue #2, D10).

Each migration is a named function; ``_sqlite_migrations`` records which ran. Never edit one that has
shipped: add the next.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from monitor.dedup import band_keys, content_hash
from monitor.store import fts

MIGRATIONS = Migrations("monitor")


@MIGRATIONS(name="0001_initial")
def _initial_schema(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE sources (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            feed TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '[]',
            language TEXT,
            enabled INTEGER NOT NULL DEFAULT 1,
            interval_s REAL NOT NULL,
            in_config INTEGER NOT NULL DEFAULT 1,
            last_polled_at TEXT,
            last_success_at TEXT,
            last_status INTEGER,
            last_error TEXT,
            error_count INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            source TEXT NOT NULL,
            guid TEXT,
            title TEXT,
            authors TEXT NOT NULL DEFAULT '[]',
            published_at TEXT,
            fetched_at TEXT NOT NULL,
            text TEXT NOT NULL DEFAULT '',
            summary TEXT,
            language TEXT,
            image TEXT,
            extraction TEXT NOT NULL CHECK (extraction IN ('page', 'feed')),
            content_hash TEXT NOT NULL
        );
        CREATE INDEX articles_published_at ON articles (published_at);
        CREATE INDEX articles_source ON articles (source, published_at);
        CREATE INDEX articles_content_hash ON articles (content_hash);
        CREATE TABLE article_urls (
            url TEXT PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles (id),
            source TEXT,
            first_seen_at TEXT NOT NULL
        );
        CREATE INDEX article_urls_article ON article_urls (article_id);
        CREATE TABLE entry_guids (
            source TEXT NOT NULL,
            guid TEXT NOT NULL,
            article_id INTEGER NOT NULL REFERENCES articles (id),
            PRIMARY KEY (source, guid)
        );
        CREATE TABLE fetches (
            id INTEGER PRIMARY KEY,
            source TEXT,
            url TEXT NOT NULL,
            kind TEXT NOT NULL,
            status INTEGER,
            bytes INTEGER,
            duration_ms INTEGER,
            error TEXT,
            at TEXT NOT NULL
        );
        CREATE INDEX fetches_source_at ON fetches (source, at);
        """
    )
    db.table("articles").enable_fts(["title", "text"], fts_version="FTS5", create_triggers=True)


@MIGRATIONS(name="0002_poll_state")
def _poll_state(db: Database) -> None:
    db.executescript(
        """
        ALTER TABLE sources ADD COLUMN kind TEXT NOT NULL DEFAULT 'feed';
        ALTER TABLE sources ADD COLUMN config_url TEXT;
        ALTER TABLE sources ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sources ADD COLUMN next_poll_at TEXT;
        ALTER TABLE sources ADD COLUMN etag TEXT;
        ALTER TABLE sources ADD COLUMN last_modified TEXT;
        ALTER TABLE sources ADD COLUMN body_hash TEXT;
        ALTER TABLE sources ADD COLUMN new_per_poll REAL;
        ALTER TABLE sources ADD COLUMN not_found_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sources ADD COLUMN dead INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sources ADD COLUMN poll_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sources ADD COLUMN not_modified_count INTEGER NOT NULL DEFAULT 0;
        UPDATE sources SET config_url = feed;
        CREATE INDEX articles_fetched_at ON articles (fetched_at);
        """
    )


@MIGRATIONS(name="0003_feed_title")
def _feed_title(db: Database) -> None:
    db.execute("ALTER TABLE articles ADD COLUMN feed_title TEXT")


@MIGRATIONS(name="0004_stories_and_revisions")
def _stories_and_revisions(db: Database) -> None:
    db.executescript(
        """
        ALTER TABLE articles ADD COLUMN story_id INTEGER;
        ALTER TABLE articles ADD COLUMN duplicate_of INTEGER;
        ALTER TABLE articles ADD COLUMN duplicate_score REAL;
        ALTER TABLE articles ADD COLUMN attribution TEXT;
        ALTER TABLE articles ADD COLUMN modified_at TEXT;
        ALTER TABLE articles ADD COLUMN entry_hash TEXT;
        ALTER TABLE articles ADD COLUMN checks INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE articles ADD COLUMN next_check_at TEXT;
        UPDATE articles SET story_id = id;
        CREATE INDEX articles_story ON articles (story_id);
        CREATE INDEX articles_next_check ON articles (source, next_check_at) WHERE next_check_at IS NOT NULL;
        CREATE TABLE article_bands (
            key INTEGER NOT NULL,
            article_id INTEGER NOT NULL,
            PRIMARY KEY (key, article_id)
        ) WITHOUT ROWID;
        CREATE TABLE revisions (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles (id),
            fetched_at TEXT NOT NULL,
            title TEXT,
            text TEXT NOT NULL,
            diff_stats TEXT,
            replaced_at TEXT NOT NULL
        );
        CREATE INDEX revisions_article ON revisions (article_id, id);
        """
    )
    # content_hash now folds punctuation too; older rows get the new hash and their near-duplicate keys.
    rows = db.execute("SELECT id, text FROM articles").fetchall()
    for article_id, text in rows:
        db.execute("UPDATE articles SET content_hash = ? WHERE id = ?", [content_hash(text), article_id])
        for key in band_keys(text):
            db.execute(
                "INSERT OR IGNORE INTO article_bands (key, article_id) VALUES (?, ?)", [key, article_id]
            )


@MIGRATIONS(name="0005_metadata_and_raw_pages")
def _metadata_and_raw_pages(db: Database) -> None:
    db.executescript(
        """
        ALTER TABLE articles ADD COLUMN section TEXT;
        ALTER TABLE articles ADD COLUMN keywords TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE articles ADD COLUMN outlet_name TEXT;
        ALTER TABLE articles ADD COLUMN extractor TEXT;
        CREATE TABLE raw_pages (
            article_id INTEGER PRIMARY KEY REFERENCES articles (id),
            url TEXT NOT NULL,
            fetched_at TEXT NOT NULL,
            content_type TEXT,
            charset TEXT,
            compression TEXT NOT NULL DEFAULT 'gzip',
            body BLOB NOT NULL
        );
        """
    )


@MIGRATIONS(name="0006_heartbeat")
def _heartbeat(db: Database) -> None:
    db.execute(
        "CREATE TABLE heartbeat (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, "
        "started_at TEXT NOT NULL, beat_at TEXT NOT NULL, version TEXT)"
    )


@MIGRATIONS(name="0007_watches")
def _watches(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE watches (
            id TEXT PRIMARY KEY,
            query TEXT NOT NULL,
            sources TEXT NOT NULL DEFAULT '[]',
            tags TEXT NOT NULL DEFAULT '[]',
            languages TEXT NOT NULL DEFAULT '[]',
            channels TEXT NOT NULL DEFAULT '[]',
            in_config INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE matches (
            id INTEGER PRIMARY KEY,
            watch TEXT NOT NULL,
            article_id INTEGER NOT NULL REFERENCES articles (id),
            matched_at TEXT NOT NULL,
            notify INTEGER NOT NULL DEFAULT 1,
            delivered_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            UNIQUE (watch, article_id)
        );
        CREATE INDEX matches_watch_time ON matches (watch, matched_at);
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            match_id INTEGER NOT NULL REFERENCES matches (id),
            channel TEXT NOT NULL,
            delivered_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at TEXT,
            UNIQUE (match_id, channel)
        );
        CREATE INDEX deliveries_pending ON deliveries (delivered_at, next_attempt_at);
        """
    )


@MIGRATIONS(name="0008_fts_written_per_poll")
def _fts_written_per_poll(db: Database) -> None:
    """New articles enter the full-text index once per poll (``SQLiteArchive._index_new``), not through
    an insert trigger, and only an edit of the title or text re-indexes a row (D36).

    FTS5 writes its pending terms to disk at every statement of a transaction, so the per-row insert trigger
    wrote a one-article segment per article and merged it, at a cost that grew with the index (1.7 ms per
    article at 1M articles against 0.4 ms at 10k); and sqlite-utils' update trigger re-indexed the whole
    text on an update of *any* column (story re-pointing, re-check scheduling).
    """
    db.executescript(
        """
        DROP TRIGGER IF EXISTS articles_ai;
        DROP TRIGGER IF EXISTS articles_au;
        CREATE TRIGGER articles_au AFTER UPDATE OF title, text ON articles BEGIN
          INSERT INTO articles_fts (articles_fts, rowid, title, text)
            VALUES ('delete', old.rowid, old.title, old.text);
          INSERT INTO articles_fts (rowid, title, text) VALUES (new.rowid, new.title, new.text);
        END;
        """
    )


@MIGRATIONS(name="0009_normalised_search_index")
def _normalised_search_index(db: Database) -> None:
    """``articles_fts`` indexes a normalised copy of title and text (CJK and Thai bigrams, Arabic and
    Persian forms, folded accents, English stems), written by the store (``monitor.store.fts``); its
    ``search_index`` table records the normaliser version. The old index (raw text, unicode61) and its
    update trigger go; the articles are indexed when the archive is next opened for writing, in batches with
    progress (issue 13). A deleted article still leaves the index through a trigger, which needs no normal
    form (the index stores its own copy)."""
    db.execute("DROP TRIGGER IF EXISTS articles_au")
    db.execute("DROP TRIGGER IF EXISTS articles_ad")
    db.execute("DROP TABLE IF EXISTS articles_fts")
    db.execute(
        "CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN "
        "DELETE FROM articles_fts WHERE rowid = old.id; END"
    )
    fts.create_meta(db.conn)
    fts.create_table(db.conn)


@MIGRATIONS(name="0010_metadata_evidence")
def _metadata_evidence(db: Database) -> None:
    """What the metadata rules need to decide again on ``reextract`` (issue 13): the publication time as
    the page declares it, what the feed said of the entry and its channel; and what is learned per source
    (the site name repeated across its titles, a template-default language) with the samples it is learned
    from."""
    db.executescript(
        """
        ALTER TABLE articles ADD COLUMN published_local TEXT;
        ALTER TABLE articles ADD COLUMN entry_published_at TEXT;
        ALTER TABLE articles ADD COLUMN entry_language TEXT;
        ALTER TABLE articles ADD COLUMN channel_title TEXT;
        ALTER TABLE articles ADD COLUMN channel_language TEXT;
        ALTER TABLE sources ADD COLUMN site_name TEXT;
        ALTER TABLE sources ADD COLUMN template_language TEXT;
        ALTER TABLE sources ADD COLUMN page_samples TEXT;
        """
    )
