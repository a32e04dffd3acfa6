"""Search vectors stored inline, and a GIN index with a short pending list (PostgreSQL).

A search walks the newest public posts and tests each one's vector until it has
enough matches. Stored out of line (TOAST), every test is an extra index lookup
and page read (100k demo posts, a word in 8% of them: 2,500 tests, ~15 ms; inline
~3 ms). STORAGE MAIN keeps the compressed vector in the row and moves the bodies
out instead (no listing reads them). Existing vectors are re-stored to move in.

Every search also scans the GIN index's whole pending list (up to 4 MB by
default after a bulk write); 256 kB bounds that cost.
"""

from django.db import migrations

FORWARD = [
    "ALTER TABLE posts_post ALTER COLUMN search_vector SET STORAGE MAIN",
    # A new value (not the same toast pointer) is stored under the new rule.
    "UPDATE posts_post SET search_vector = search_vector || ''::tsvector "
    "WHERE search_vector IS NOT NULL",
    "ALTER INDEX post_search_vector_gin SET (gin_pending_list_limit = 256)",
]
BACKWARD = [
    "ALTER INDEX post_search_vector_gin RESET (gin_pending_list_limit)",
    "ALTER TABLE posts_post ALTER COLUMN search_vector SET STORAGE EXTENDED",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("posts", "0007_post_version")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
