"""Staleness checker for the mixed workload: reads bench/editor.py's lines on
stdin and, right after each edit has committed, fetches the pages that show the
post over HTTP, as an anonymous reader (so through the page cache).

A response is stale when it still shows the old title; fresh when it shows the
new one and not the old. When it shows neither, the post's own title decides
(on a listing, the title linked to the post): a later edit's title is fresh
(the checker fell behind the editor, which retitles the same posts in turn), any
other is stale, and a listing without the post is "absent".
Writes a JSON summary to --out, with examples of stale and absent responses
(status, cache headers, <title>).
"""

import argparse
import html
import json
import re
import sys
import time
import urllib.error
import urllib.request

TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def fetch(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            cache = r.headers.get("X-Edge-Cache") or r.headers.get("X-Page-Cache", "")
            if r.headers.get("Age"):
                cache += f" age={r.headers['Age']}"
            return r.status, cache, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("X-Page-Cache", ""), ""
    except OSError as exc:
        return 0, "", str(exc)


def classify(status: int, text: str, old_title: str, new_title: str) -> str:
    """error, stale (old title shown), fresh (new title, not the old) or absent."""
    new, old = html.escape(new_title), html.escape(old_title)
    if status != 200:
        return "error"
    if old in text:
        return "stale"
    return "fresh" if new in text else "absent"


def superseded(text: str, new_title: str) -> bool:
    """Does the text show a later edit of this run ("<prefix>#<number>", higher number)?"""
    prefix, _, number = new_title.rpartition("#")
    if not prefix or not number.isdigit():
        return False
    later = re.findall(re.escape(html.escape(prefix)) + r"#(\d+)", text)
    return any(int(m) > int(number) for m in later)


def listing_verdict(text: str, slug: str, new_title: str) -> str:
    """For a listing showing neither title: the title linked to the post decides.
    A later edit is fresh (the checker fell behind the editor, which retitles the
    same posts in turn), any other title is stale, no link is absent."""
    shown = " ".join(re.findall(rf'href="/posts/{re.escape(slug)}/"[^>]*>([^<]*)<', text))
    if not shown.strip():
        return "absent"
    return "fresh" if superseded(shown, new_title) else "stale"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    kinds = ("post", "home", "tag", "author")
    summary = {k: {"checked": 0, "fresh": 0, "stale": 0, "absent": 0, "errors": 0} for k in kinds}
    stale_examples, lags = [], []
    edits = 0
    for raw in sys.stdin:
        edit = json.loads(raw)
        edits += 1
        t0 = time.perf_counter()
        urls = {"post": f"/posts/{edit['slug']}/", "home": "/"}
        if edit.get("tag"):
            urls["tag"] = f"/tags/{edit['tag']}/"
        if edit.get("author"):
            urls["author"] = f"/authors/{edit['author']}/"
        for kind, path in urls.items():
            status, cache, text = fetch(args.base + path)
            s = summary[kind]
            if status == 404 and kind in ("tag", "author"):
                continue  # page not built yet: nothing to check
            s["checked"] += 1
            verdict = classify(status, text, edit["old"], edit["new"])
            if verdict == "absent" and kind == "post":
                verdict = "fresh" if superseded(text, edit["new"]) else "stale"
            elif verdict == "absent":
                verdict = listing_verdict(text, edit["slug"], edit["new"])
            s["errors" if verdict == "error" else verdict] += 1
            if verdict in ("stale", "absent") and len(stale_examples) < 10:
                title = TITLE.search(text)
                stale_examples.append(
                    {
                        "edit": edit["n"],
                        "page": path,
                        "verdict": verdict,
                        "status": status,
                        "cache": cache,
                        "title": title[1].strip() if title else None,
                        "expected": edit["new"],
                    }
                )
        lags.append((time.perf_counter() - t0) * 1000)
    result = {
        "edits": edits,
        "pages": summary,
        "stale": sum(s["stale"] for s in summary.values()),
        "stale_examples": stale_examples,
        "check_ms_max": round(max(lags), 1) if lags else None,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
