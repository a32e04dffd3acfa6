"""listed_at: the post's publication time on each of its tag and byline rows.

A tag's or an author's newest public posts (their pages, the pools of related
posts) become one index range on (tag or author, listed_at, post) instead of
reading every post of theirs to sort them by date: for a 25,000-post tag,
a few rows instead of all of them.

The copy is kept by triggers, not by Python, so no write can leave it behind:
the services, the admin, `post.tags.add()`, a shell, a data fix in SQL. A
row takes its post's value when it is written; a post whose status or
publication time changes passes the new value to its rows. Readers still
filter on the post's own columns, so a wrong copy could hide a post from a
listing but never show one that is not public.
"""

from django.db import migrations, models

# The two through tables whose rows list their post: tag pages, author pages.
TABLES = ("posts_posttag", "posts_authorship")

LISTED = "CASE WHEN p.status = 'published' THEN p.published_at END"


def backfill(table: str) -> str:
    return f"""
        UPDATE {table} SET listed_at = (
            SELECT {LISTED} FROM posts_post p WHERE p.id = {table}.post_id
        )
    """


def postgresql(table: str) -> list[str]:
    return [
        f"""
        CREATE FUNCTION {table}_listed_at() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            value timestamptz;
        BEGIN
            SELECT {LISTED} INTO value FROM posts_post p WHERE p.id = NEW.post_id;
            -- No post yet (rows restored before their post): keep the value given.
            IF FOUND THEN
                NEW.listed_at := value;
            END IF;
            RETURN NEW;
        END $$
        """,
        f"""
        CREATE TRIGGER {table}_listed_at BEFORE INSERT OR UPDATE ON {table}
        FOR EACH ROW EXECUTE FUNCTION {table}_listed_at()
        """,
    ]


def sqlite(table: str) -> list[str]:
    # SQLite cannot change NEW in a BEFORE trigger: the row is updated just after.
    # That UPDATE does not fire the trigger again (recursive triggers are off).
    row = f"""
        UPDATE {table} SET listed_at = (
            SELECT {LISTED} FROM posts_post p WHERE p.id = NEW.post_id
        ) WHERE id = NEW.id;
    """
    return [
        f"""
        CREATE TRIGGER {table}_listed_at_{event.lower()} AFTER {event} ON {table}
        FOR EACH ROW WHEN EXISTS (SELECT 1 FROM posts_post WHERE id = NEW.post_id)
        BEGIN {row} END
        """
        for event in ("INSERT", "UPDATE")
    ]


def _post_changed(new: str) -> str:
    """What a post whose status or publication time changed writes to its rows."""
    listed = f"CASE WHEN {new}.status = 'published' THEN {new}.published_at END"
    return " ".join(f"UPDATE {t} SET listed_at = {listed} WHERE post_id = {new}.id;" for t in TABLES)


POSTGRESQL = [
    *(sql for table in TABLES for sql in postgresql(table)),
    f"""
    CREATE FUNCTION posts_post_listed_at() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_post_changed("NEW")}
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER posts_post_listed_at AFTER UPDATE OF status, published_at ON posts_post
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.published_at IS DISTINCT FROM NEW.published_at)
    EXECUTE FUNCTION posts_post_listed_at()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS posts_post_listed_at ON posts_post",
    "DROP FUNCTION IF EXISTS posts_post_listed_at()",
    *(f"DROP TRIGGER IF EXISTS {t}_listed_at ON {t}" for t in TABLES),
    *(f"DROP FUNCTION IF EXISTS {t}_listed_at()" for t in TABLES),
]

SQLITE = [
    *(sql for table in TABLES for sql in sqlite(table)),
    f"""
    CREATE TRIGGER posts_post_listed_at AFTER UPDATE OF status, published_at ON posts_post
    FOR EACH ROW
    WHEN OLD.status IS NOT NEW.status OR OLD.published_at IS NOT NEW.published_at
    BEGIN {_post_changed("NEW")} END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS posts_post_listed_at",
    *(f"DROP TRIGGER IF EXISTS {t}_listed_at_{e}" for t in TABLES for e in ("insert", "update")),
]

TRIGGERS = {"postgresql": (POSTGRESQL, POSTGRESQL_DROP), "sqlite": (SQLITE, SQLITE_DROP)}


def _run(schema_editor, statements) -> None:
    for sql in statements:
        schema_editor.execute(sql)


def create_triggers(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in TRIGGERS:
        raise RuntimeError(f"listed_at has triggers for PostgreSQL and SQLite, not {vendor}")
    _run(schema_editor, [*(backfill(t) for t in TABLES), *TRIGGERS[vendor][0]])


def drop_triggers(apps, schema_editor) -> None:
    _run(schema_editor, TRIGGERS[schema_editor.connection.vendor][1])


class Migration(migrations.Migration):

    dependencies = [
        ('posts', '0011_merge_perf'),
    ]

    operations = [
        migrations.AddField(
            model_name='posttag',
            name='listed_at',
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='authorship',
            name='listed_at',
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.AddIndex(
            model_name='posttag',
            index=models.Index(fields=['tag', '-listed_at', '-post'], name='posttag_tag_listed_idx'),
        ),
        migrations.AddIndex(
            model_name='authorship',
            index=models.Index(
                fields=['author', '-listed_at', '-post'], name='authorship_author_listed_idx'
            ),
        ),
    ]
