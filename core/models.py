"""Model pieces shared by both apps."""

from __future__ import annotations


class StoredCountMixin:
    """Keeps stored counts out of ordinary saves.

    Counts are written only by the code that computes them (posts.counts); an
    instance loaded before a recount must not write its old number back.
    """

    STORED_COUNTS: tuple[str, ...] = ("published_post_count",)

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding and kwargs.get("update_fields") is None and not args:
            skip = set(self.STORED_COUNTS) | self.get_deferred_fields()
            kwargs["update_fields"] = [
                f.attname
                for f in self._meta.concrete_fields
                if not f.primary_key and f.attname not in skip
            ]
        super().save(*args, **kwargs)
