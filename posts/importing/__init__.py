"""Importing posts from RSS, Atom and WordPress export (WXR) files.

`read_feed(path)` parses a file into neutral dataclasses (`posts.importing.items`),
refusing anything that is not a well-formed feed; `import_feed(feed=...)` writes
them in one transaction through `posts.services`. The management command
`import_feed` is the thin shell around both.
"""

from posts.importing.items import FeedAuthor, FeedItem, ImportFailed, ImportReport, ParsedFeed
from posts.importing.parse import read_feed
from posts.importing.write import import_feed

__all__ = [
    "FeedAuthor",
    "FeedItem",
    "ImportFailed",
    "ImportReport",
    "ParsedFeed",
    "import_feed",
    "read_feed",
]
