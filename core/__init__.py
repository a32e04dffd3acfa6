"""Pieces both apps use: URLs, rendering, validators, the page cache, health views.

Depends on Django only; posts and accounts import it, never the reverse."""
