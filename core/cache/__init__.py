"""Full-page cache for anonymous readers, with exact, tag-based invalidation.

See README.md ("Page cache") for the design.
"""

from django.db import transaction


def invalidate_on_commit(tags: set[str]) -> None:
    """Drop the pages showing `tags` once the current transaction commits, so no
    reader re-caches rows that are not committed yet."""
    from core.cache.store import invalidate  # the store reads settings at first use

    if tags:
        frozen = frozenset(tags)
        transaction.on_commit(lambda: invalidate(set(frozen)))
