"""Read a file into a ParsedFeed, or refuse it with a one-line reason."""

from __future__ import annotations

from pathlib import Path

from posts.importing.feeds import parse_feed
from posts.importing.items import ImportFailed, ParsedFeed
from posts.importing.wxr import is_wxr, parse_wxr

# Bytes that never occur in XML text (XML 1.0 allows only tab, LF and CR below 0x20).
_BINARY = bytes(b for b in range(32) if b not in (9, 10, 13))


def read_feed(path: str | Path) -> ParsedFeed:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportFailed(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImportFailed(f"{path}: is a directory, not a feed file") from None
    except OSError as exc:
        raise ImportFailed(f"{path}: cannot read it ({exc.strerror})") from None
    if not data.strip():
        raise ImportFailed(f"{path}: the file is empty")
    head = data[:4096]
    if any(b in _BINARY for b in head) and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFailed(f"{path}: a binary file, not a feed")
    try:
        return parse_wxr(data) if is_wxr(data) else parse_feed(data)
    except ImportFailed as exc:
        raise ImportFailed(f"{path}: {exc}") from None
