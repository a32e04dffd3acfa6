"""Model pieces shared by both apps."""

from __future__ import annotations


class DerivedColumnsMixin:
    """Keeps derived columns out of ordinary saves of existing rows.

    Stored counts and search vectors are written only by the code that computes
    them (posts.counts, posts.search); an instance loaded before, or without,
    that value must not write its old one back.
    """

    DERIVED_COLUMNS: tuple[str, ...] = ()

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding and kwargs.get("update_fields") is None and not args:
            skip = set(self.DERIVED_COLUMNS) | self.get_deferred_fields()
            kwargs["update_fields"] = [
                f.attname
                for f in self._meta.concrete_fields
                if not f.primary_key and f.attname not in skip
            ]
        super().save(*args, **kwargs)
