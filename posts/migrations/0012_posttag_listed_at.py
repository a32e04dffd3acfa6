"""posts_posttag.listed_at: the post's publication time on each of its tag rows.

A tag's newest public posts (its page, the pools of related posts) become one
index range on (tag, listed_at, post) instead of reading every post of the tag
to sort them by date: for a 25,000-post tag, hundreds of rows instead of all.

The copy is kept by triggers, not by Python, so no write can leave it behind:
the services, the admin, `post.tags.add()`, a shell, a data fix in SQL. A tag
row takes its post's value when it is written; a post whose status or
publication time changes passes the new value to its rows. Readers still
filter on the post's own columns, so a wrong copy could hide a post from a
listing but never show one that is not public.
"""

from django.db import migrations, models

BACKFILL = """
UPDATE posts_posttag SET listed_at = (
    SELECT CASE WHEN p.status = 'published' THEN p.published_at END
    FROM posts_post p WHERE p.id = posts_posttag.post_id
)
"""

POSTGRESQL = [
    """
    CREATE FUNCTION posts_posttag_listed_at() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        value timestamptz;
    BEGIN
        SELECT CASE WHEN p.status = 'published' THEN p.published_at END INTO value
        FROM posts_post p WHERE p.id = NEW.post_id;
        -- No post yet (rows restored before their post): keep the value given.
        IF FOUND THEN
            NEW.listed_at := value;
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER posts_posttag_listed_at BEFORE INSERT OR UPDATE ON posts_posttag
    FOR EACH ROW EXECUTE FUNCTION posts_posttag_listed_at()
    """,
    """
    CREATE FUNCTION posts_post_listed_at() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE posts_posttag
        SET listed_at = CASE WHEN NEW.status = 'published' THEN NEW.published_at END
        WHERE post_id = NEW.id;
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
    "DROP TRIGGER IF EXISTS posts_posttag_listed_at ON posts_posttag",
    "DROP FUNCTION IF EXISTS posts_posttag_listed_at()",
]

# SQLite cannot change NEW in a BEFORE trigger: the row is updated just after.
# Its own UPDATE does not fire the trigger again (recursive triggers are off).
_SQLITE_ROW = """
    UPDATE posts_posttag SET listed_at = (
        SELECT CASE WHEN p.status = 'published' THEN p.published_at END
        FROM posts_post p WHERE p.id = NEW.post_id
    ) WHERE id = NEW.id;
"""
SQLITE = [
    f"""
    CREATE TRIGGER posts_posttag_listed_at_insert AFTER INSERT ON posts_posttag
    FOR EACH ROW WHEN EXISTS (SELECT 1 FROM posts_post WHERE id = NEW.post_id)
    BEGIN {_SQLITE_ROW} END
    """,
    f"""
    CREATE TRIGGER posts_posttag_listed_at_update AFTER UPDATE ON posts_posttag
    FOR EACH ROW WHEN EXISTS (SELECT 1 FROM posts_post WHERE id = NEW.post_id)
    BEGIN {_SQLITE_ROW} END
    """,
    """
    CREATE TRIGGER posts_post_listed_at AFTER UPDATE OF status, published_at ON posts_post
    FOR EACH ROW
    WHEN OLD.status IS NOT NEW.status OR OLD.published_at IS NOT NEW.published_at
    BEGIN
        UPDATE posts_posttag
        SET listed_at = CASE WHEN NEW.status = 'published' THEN NEW.published_at END
        WHERE post_id = NEW.id;
    END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS posts_post_listed_at",
    "DROP TRIGGER IF EXISTS posts_posttag_listed_at_update",
    "DROP TRIGGER IF EXISTS posts_posttag_listed_at_insert",
]

TRIGGERS = {"postgresql": (POSTGRESQL, POSTGRESQL_DROP), "sqlite": (SQLITE, SQLITE_DROP)}


def _run(schema_editor, statements) -> None:
    for sql in statements:
        schema_editor.execute(sql)


def create_triggers(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in TRIGGERS:
        raise RuntimeError(f"posts_posttag.listed_at has triggers for PostgreSQL and SQLite, not {vendor}")
    _run(schema_editor, [BACKFILL, *TRIGGERS[vendor][0]])


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
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.AddIndex(
            model_name='posttag',
            index=models.Index(fields=['tag', '-listed_at', '-post'], name='posttag_tag_listed_idx'),
        ),
    ]
