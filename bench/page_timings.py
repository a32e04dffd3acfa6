"""Uncached server-side time of each page type, measured in-process.

django.test.Client with the page cache off: no network, no gunicorn, so the
figures are what a cache miss costs the worker (view + queries + template).
Wall time and this process's CPU time are both reported: on a shared machine the
wall clock also counts other processes' work, CPU time does not (but it leaves
out the database server's share; the plans' execution times give that).
Search is timed for a common, a mid-frequency and a rare word. Each page also
gets EXPLAIN (ANALYZE, BUFFERS) of every query it sends that reads posts_post,
to show that listings use indexes, not a scan of every post; `db_exec_ms` sums
the execution time of all its SELECTs.

Writes JSON to --out; a page that does not exist yet is reported, not fatal.
"""

import argparse
import importlib
import json
import math
import re
import time

SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")
# Requests before the timed ones: a worker's first few of a page type do one-off work.
WARM_UP = 5


def search_words(connection, fallback: str) -> dict[str, str]:
    """A common, a mid-frequency (about 5% of posts) and a rare word of the newest posts.

    PostgreSQL counts documents per lexeme in a sample of stored vectors; other
    databases search for `fallback` only.
    """
    if connection.vendor != "postgresql":
        return {"search": fallback}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM posts_post "
            "WHERE search_vector IS NOT NULL ORDER BY id DESC LIMIT 2000') "
            "WHERE word ~ '^[a-z]{4,}$' ORDER BY ndoc DESC, word"
        )
        rows = cursor.fetchall()
    if not rows:
        return {"search": fallback}
    sample = max(n for _, n in rows)
    mid = min(rows, key=lambda r: (abs(r[1] - sample / 20), r[0]))
    return {"search common": rows[0][0], "search mid": mid[0], "search rare": rows[-1][0]}


def pages(targets: dict, words: dict[str, str] | None = None) -> list[tuple[str, str]]:
    post = targets["posts"][min(3, len(targets["posts"]) - 1)]
    tag = targets["tags"][0] if targets["tags"] else "no-tag"
    author = targets["authors"][0] if targets["authors"] else "no-author"
    words = words or {"search": targets["search_word"]}
    return [
        ("home", "/"),
        ("post", f"/posts/{post}/"),
        ("tag", f"/tags/{tag}/"),
        ("author", f"/authors/{author}/"),
        ("home page 500", "/?page=500"),
        *((name, f"/search/?q={word}") for name, word in words.items()),
        ("feed", "/feed/"),
        ("tag index", "/tags/"),
        ("author index", "/authors/"),
        ("sitemap", "/sitemap.xml"),
    ]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def explain(connection, sql: str) -> tuple[str, float]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    found = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return plan, float(found.group(1)) if found else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", required=True)
    # A p95 of 30 runs is the second-slowest of them: one hiccup of a shared VM.
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per page at most")
    parser.add_argument("--out", required=True)
    parser.add_argument("--only", nargs="*", help="page names to time (default: all)")
    args = parser.parse_args()
    with open(args.targets) as f:
        targets = json.load(f)

    # Loaded as a gunicorn worker loads the site (blogsite.wsgi sets Django up and
    # freezes what it loaded out of the garbage collector's way).
    importlib.import_module("blogsite.wsgi")
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    client = Client(HTTP_HOST="127.0.0.1")
    results, plans = [], []
    with override_settings(PAGE_CACHE_ENABLED=False):
        for name, path in pages(targets, search_words(connection, targets["search_word"])):
            if args.only and name not in args.only:
                continue
            row = {"name": name, "path": path}
            results.append(row)
            try:
                for _ in range(WARM_UP):  # templates, connection, prepared queries, cards
                    first = client.get(path)
            except Exception as exc:  # noqa: BLE001 - report any failure of a page
                row.update(status="error", note=f"{exc.__class__.__name__}: {exc}"[:200])
                continue
            row["status"] = first.status_code
            if first.status_code != 200:
                continue
            with CaptureQueriesContext(connection) as ctx:
                row["bytes"] = len(body(client.get(path)))
            # Copied now: every request_started signal empties connection.queries.
            captured = [q["sql"] for q in ctx.captured_queries]
            row["queries"] = len(captured)
            times: list[float] = []
            cpu: list[float] = []
            deadline = time.monotonic() + args.budget
            for _ in range(args.runs):
                start, start_cpu = time.perf_counter(), time.process_time()
                body(client.get(path))
                times.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
                if time.monotonic() > deadline and len(times) >= 3:
                    break
            row.update(
                n=len(times),
                p50_ms=round(percentile(times, 50), 2),
                p95_ms=round(percentile(times, 95), 2),
                max_ms=round(max(times), 2),
                cpu_p50_ms=round(percentile(cpu, 50), 2),
                cpu_p95_ms=round(percentile(cpu, 95), 2),
            )
            if connection.vendor != "postgresql":
                continue
            row["db_exec_ms"] = 0.0  # every SELECT's execution time, summed
            for sql in captured:
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                try:
                    plan, ms = explain(connection, sql)
                except Exception as exc:  # noqa: BLE001
                    plan, ms = f"EXPLAIN failed: {exc}", 0.0
                row["db_exec_ms"] = round(row["db_exec_ms"] + ms, 2)
                if not re.search(r'(FROM|JOIN) "posts_post"', sql):
                    continue
                plans.append(
                    {
                        "page": name,
                        "sql": sql,
                        "plan": plan,
                        "exec_ms": ms,
                        "seq_scans": sorted(set(SEQ_SCAN.findall(plan))),
                    }
                )
    with open(args.out, "w") as f:
        json.dump({"pages": results, "plans": plans}, f, indent=1)


if __name__ == "__main__":
    main()
