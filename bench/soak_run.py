"""`make soak`'s driver: a bounded mixed workload with Redis killed and restarted
once and PostgreSQL restarted once, then a report. bench/soak.sh starts the
servers and seeds the database; see bench/README.md ("Soak").

Timeline (seconds from the start, defaults): readers (wrk, bench/wrk/soak.lua,
in --segment second runs so each segment's latency is known) and the author
(bench/soak_editor.py, a separate process writing through posts.services) run
throughout; Redis is killed (SIGKILL) at --redis-kill-at and started again
--redis-down seconds later; PostgreSQL is restarted (`pg_ctl restart -m fast`)
at --pg-restart-at. Each edit's pages are fetched right after it commits and
compared with what the edit wrote; at the end every edited post is re-read
from the database.

Exit status 1 when an acceptance figure fails: a 500 outside the seconds
PostgreSQL was down, a stale response, a lost edit.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import django

ROOT = Path(__file__).resolve().parents[1]


# --- Targets ---------------------------------------------------------------------


def reader_paths(base: str, sample: int, seed: int = 13) -> tuple[list[str], list[str], list[str]]:
    """(paths the readers walk, paths left out because they did not answer 200,
    latest post slugs for the author)."""
    django.setup()
    import re
    from collections import Counter

    from accounts.models import AuthorProfile
    from posts.models import Post, Series, Tag

    public = Post.objects.public().latest_first()
    latest = list(public.values_list("slug", flat=True)[:10])
    if not latest:
        raise SystemExit("soak: no public posts; did seeding fail?")
    rng = random.Random(seed)
    total = public.count()
    older = [
        public.values_list("slug", flat=True)[rng.randrange(total)]
        for _ in range(min(sample, total))
    ]
    tags = list(Tag.objects.order_by("-pk").values_list("slug", flat=True)[:400])
    tags = rng.sample(tags, min(8, len(tags)))
    authors = list(AuthorProfile.objects.values_list("handle", flat=True)[:200])
    authors = rng.sample(authors, min(6, len(authors)))
    series = list(Series.objects.values_list("slug", flat=True)[:6])
    titles = public.values_list("title", flat=True)[:100]
    words = [
        w
        for w, _ in Counter(
            w for t in titles for w in re.findall(r"[a-z]{5,}", t.lower())
        ).most_common(3)
    ]
    paths = [
        "/",
        "/?page=2",
        "/?page=3",
        "/tags/",
        "/authors/",
        "/feed/",
        "/feed/atom/",
        "/feed.json",
    ]
    paths += [f"/posts/{s}/" for s in latest + older]
    paths += [f"/tags/{t}/" for t in tags] + [f"/tags/{t}/?page=2" for t in tags[:2]]
    paths += [f"/tags/{t}/feed/" for t in tags[:3]]
    paths += [f"/authors/{a}/" for a in authors] + [f"/authors/{a}/feed/" for a in authors[:3]]
    paths += [f"/series/{s}/" for s in series]
    paths += [f"/search/?q={w}" for w in words or ["django"]]
    paths += ["/sitemap.xml"]
    body = fetch(base + "/sitemap.xml")[1]
    for loc in re.findall(r"<loc>([^<]+)</loc>", body)[:3]:  # sitemap sections
        url = urlsplit(html.unescape(loc))
        paths.append(url.path + (f"?{url.query}" if url.query else ""))
    kept, missing = [], []
    for path in dict.fromkeys(paths):
        (kept if fetch(base + path)[0] == 200 else missing).append(path)
    rng.shuffle(kept)  # page types interleaved, so every segment sees each
    return kept, missing, latest


def fetch(url: str, timeout: float = 10) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError as exc:
        return 0, str(exc)


# --- Readers ---------------------------------------------------------------------


class Readers(threading.Thread):
    """wrk in back-to-back segments until the run's end; one SOAKJSON each."""

    def __init__(self, args, paths_file: Path, end: float) -> None:
        super().__init__(daemon=True)
        self.args, self.paths_file, self.end = args, paths_file, end
        self.segments: list[dict] = []

    def run(self) -> None:
        while (left := self.end - time.time()) > 0.5:
            seconds = max(1, min(self.args.segment, round(left)))
            t0 = time.time()
            out = subprocess.run(
                ["wrk", f"-t{self.args.threads}", f"-c{self.args.connections}", f"-d{seconds}s",
                 "--timeout", "10s", "-s", str(ROOT / "bench/wrk/soak.lua"), self.args.base,
                 "--", str(self.paths_file)],
                capture_output=True, text=True,
            ).stdout  # fmt: skip
            for line in out.splitlines():
                if line.startswith("SOAKJSON "):
                    seg = json.loads(line[len("SOAKJSON ") :])
                    seg["start"], seg["end"] = t0, time.time()
                    self.segments.append(seg)
            # gunicorn still answers the connections wrk dropped at its end; let
            # them through so the next segment does not queue behind them.
            fetch(self.args.base + "/healthz", timeout=30)


# --- Author and checker ------------------------------------------------------------


class Author(threading.Thread):
    """Runs bench/soak_editor.py (which checks each edit's pages right after it
    commits) and collects its lines."""

    def __init__(self, args, slugs: list[str], log: Path) -> None:
        super().__init__(daemon=True)
        self.args, self.slugs, self.log = args, slugs, log
        self.checks: list[dict] = []
        self.edits: list[dict] = []

    def run(self) -> None:
        cmd = [sys.executable, "-m", "bench.soak_editor", "run", "--base", self.args.base,
               "--slugs", ",".join(self.slugs),
               "--seconds", str(self.args.seconds - 5), "--interval", str(self.args.edit_interval),
               "--run-id", str(int(time.time()))]  # fmt: skip
        with (
            self.log.open("w") as log,
            subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True) as proc,
        ):
            for raw in proc.stdout:
                log.write(raw)
                log.flush()
                edit = json.loads(raw)
                self.edits.append(edit)
                for c in edit.get("checks", []):
                    self.checks.append({"edit": edit["n"], "kind": edit["kind"], **c})


# --- Faults ----------------------------------------------------------------------


def redis_ping(port: int) -> bool:
    return (
        subprocess.run(
            ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True
        ).stdout.strip()
        == "PONG"
    )


def kill_and_restart_redis(args) -> tuple[float, float]:
    pidfile = Path(args.services_dir) / "redis.pid"
    started = time.time()
    os.kill(int(pidfile.read_text()), signal.SIGKILL)
    time.sleep(args.redis_down)
    subprocess.run(
        ["redis-server", "--port", str(args.redis_port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--daemonize", "yes", "--pidfile", str(pidfile),
         "--logfile", str(Path(args.services_dir) / "redis.log")],
        check=True,
    )  # fmt: skip
    while not redis_ping(args.redis_port):
        time.sleep(0.02)
    return started, time.time()


def restart_postgres(args) -> tuple[float, float]:
    data = Path(args.services_dir) / "pg" / "data"
    pg_ctl = [str(Path(args.pgbin) / "pg_ctl"), "-D", str(data), "restart", "-m", "fast", "-w",
              "-l", str(Path(args.services_dir) / "pg" / "log")]  # fmt: skip
    if os.geteuid() == 0:
        pg_ctl = ["runuser", "-u", "postgres", "--", *pg_ctl]
    started = time.time()
    subprocess.run(pg_ctl, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    isready = [
        str(Path(args.pgbin) / "pg_isready"),
        "-h",
        "127.0.0.1",
        "-p",
        str(args.pg_port),
        "-q",
    ]
    while subprocess.run(isready).returncode != 0:
        time.sleep(0.02)
    return started, time.time()


# --- Report ----------------------------------------------------------------------


def merged(segments: list[dict], p: float) -> float | None:
    """The p-th percentile (ms) over segments, from each one's 0.5 % quantiles."""
    samples = []
    for seg in segments:
        q = seg["quantiles_us"]
        weight = seg["requests"] / len(q) if q else 0
        samples += [(v, weight) for v in q]
    total = sum(w for _, w in samples)
    if not total:
        return None
    samples.sort()
    acc = 0.0
    for value, weight in samples:
        acc += weight
        if acc >= total * p / 100:
            return round(value / 1000, 1)
    return round(samples[-1][0] / 1000, 1)


def server_time(log: Path) -> list[str]:
    """From gunicorn's request log (core.requestlog): where the workers' time went,
    by page type and cache outcome, the five largest."""
    spent: dict[tuple[str, str], list[float]] = {}
    if not log.exists():
        return []
    for raw in log.open(errors="replace"):
        if '"logger": "blogsite.request"' not in raw:
            continue
        try:
            r = json.loads(raw)
        except ValueError:
            continue
        parts = r["path"].strip("/").split("/")
        kind = parts[0] if len(parts) > 1 or not parts[0] else r["path"]
        spent.setdefault((kind or "/", r.get("cache") or "-"), []).append(r["duration_ms"])
    rows = sorted(spent.items(), key=lambda kv: -sum(kv[1]))[:5]
    return [
        f"- {kind} ({cache}): {len(ms)} requests, {round(sum(ms) / 1000, 1)} s in all, "
        f"median {sorted(ms)[len(ms) // 2]} ms, max {max(ms)} ms"
        for (kind, cache), ms in rows
    ]


def report(
    args,
    readers: Readers,
    author: Author,
    verify: dict,
    outages: dict,
    missing: list[str],
    paths: list[str],
) -> tuple[str, bool]:
    segs = readers.segments
    statuses: dict[str, int] = {}
    by_second: dict[int, dict[str, int]] = {}
    for seg in segs:
        for key, n in seg["seconds"].items():
            sec, status = key.split(":")
            statuses[status] = statuses.get(status, 0) + n
            by_second.setdefault(int(sec), {}).setdefault(status, 0)
            by_second[int(sec)][status] += n
    cache: dict[str, int] = {}
    for seg in segs:
        for k, n in seg["cache"].items():
            cache[k] = cache.get(k, 0) + n
    pg_from, pg_to = outages["postgresql"]
    redis_from, redis_to = outages["redis"]
    # wrk stamps whole seconds: a second that overlaps the outage at all is in it.
    pg_seconds = range(math.floor(pg_from), math.ceil(pg_to) + 1)
    err500_out = sum(c.get("500", 0) for s, c in by_second.items() if s not in pg_seconds)
    err500_in = sum(c.get("500", 0) for s, c in by_second.items() if s in pg_seconds)
    settle = args.settle
    steady = [
        s for s in segs
        if not any(s["start"] < b + settle and s["end"] > a - 1 for a, b in outages.values())
    ]  # fmt: skip
    checks = author.checks
    stale = [c for c in checks if c["verdict"] == "stale"]
    check_errors = [c for c in checks if c["verdict"] == "error"]
    check_errors_out = [c for c in check_errors if not (pg_from - 1 <= c["at"] <= pg_to + 1)]
    made = [e for e in author.edits if "failed" not in e]
    retried = [e for e in made if e.get("attempts", 1) > 1]
    requests = sum(s["requests"] for s in segs)
    wrk_errors = {
        k: sum(s[k] for s in segs)
        for k in ("connect_errors", "read_errors", "write_errors", "timeouts")
    }
    kinds = ", ".join(
        f"{k} {sum(1 for e in made if e['kind'] == k)}"
        for k in ("retitle", "retag", "schedule", "publish")
    )
    ok = (
        err500_out == 0
        and not stale
        and not verify["lost"]
        and not verify["edits_failed"]
        and bool(made)
    )
    lines = [
        f"# Soak run {time.strftime('%Y-%m-%d %H:%M')}",
        "",
        f"posts={args.posts} seconds={args.seconds} connections={args.connections} "
        f"wrk threads={args.threads} segment={args.segment}s paths={len(paths)} "
        f"(left out, not 200 before the run: {missing or 'none'})",
        f"load average at the end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}",
        "",
        "## Readers",
        f"- requests: {requests} ({round(requests / max(1, args.seconds))}/s); "
        f"wrk socket errors: {wrk_errors}",
        f"- responses by status: {dict(sorted(statuses.items()))}",
        f"- X-Page-Cache: {dict(sorted(cache.items()))}",
        f"- 500s outside the seconds PostgreSQL was down: {err500_out}; inside them: {err500_in}",
        f"- latency overall: p50 {merged(segs, 50)} ms, p99 {merged(segs, 99)} ms "
        f"(max {round(max((s['max_us'] for s in segs), default=0) / 1000, 1)} ms)",
        f"- latency during the steady segments ({len(steady)} of {len(segs)}, "
        f"none within 1 s before or {settle} s after an outage): p50 {merged(steady, 50)} ms, "
        f"p99 {merged(steady, 99)} ms; worst segment p99 "
        f"{round(max((s['p99_us'] for s in steady), default=0) / 1000, 1)} ms",
        "",
        "## Outages",
        f"- Redis killed at {round(redis_from - args.t0, 1)} s, answering again after "
        f"{round(redis_to - redis_from, 2)} s",
        f"- PostgreSQL restart (pg_ctl restart -m fast) at {round(pg_from - args.t0, 1)} s, "
        f"accepting connections again after {round(pg_to - pg_from, 2)} s",
        "",
        "## Author",
        f"- edits made: {len(made)} ({kinds}); "
        f"failed: {verify['edits_failed']}; retried through the PostgreSQL restart: {len(retried)}",
        f"- edit commit time: max {max((e['seconds'] for e in made), default=0)} s",
        f"- edits present afterwards: {verify['posts_edited'] - len(verify['lost'])} of "
        f"{verify['posts_edited']} posts as last written; lost: {verify['lost'] or 0}",
        f"- pages checked right after each edit: {len(checks)}; stale: {len(stale)}; "
        f"errors: {len(check_errors)} ({len(check_errors_out)} outside the PostgreSQL restart)",
    ]
    if stale:
        lines.append(f"- stale examples: {stale[:5]}")
    lines += ["", "## Where the workers' time went (request log)", *server_time(args.gunicorn_log)]
    lines += ["", f"ACCEPTANCE: {'PASS' if ok else 'FAIL'}"]
    return "\n".join(lines) + "\n", ok


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--services-dir", default=os.environ.get("SERVICES_DIR"))
    parser.add_argument("--redis-port", type=int, default=os.environ.get("REDIS_PORT"))
    parser.add_argument("--pg-port", type=int, default=os.environ.get("PGPORT"))
    parser.add_argument("--pgbin", required=True)
    parser.add_argument("--posts", default="?")
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--segment", type=int, default=5)
    parser.add_argument("--edit-interval", type=float, default=3.0)
    parser.add_argument("--redis-kill-at", type=float, default=40)
    parser.add_argument("--redis-down", type=float, default=3)
    parser.add_argument("--pg-restart-at", type=float, default=80)
    parser.add_argument(
        "--settle", type=float, default=5, help="seconds after an outage not counted as steady"
    )
    parser.add_argument(
        "--sample", type=int, default=60, help="older posts among the readers' paths"
    )
    args = parser.parse_args()
    work = Path(args.work)
    args.gunicorn_log = work / "gunicorn.log"

    paths, missing, latest = reader_paths(args.base, args.sample)
    from django.db import connection

    connection.close()  # the restart would break it; nothing here needs it again
    (work / "soak-paths").write_text("\n".join(paths) + "\n")
    for path in paths:  # warm: the run starts from the steady state
        fetch(args.base + path)

    args.t0 = t0 = time.time()
    readers = Readers(args, work / "soak-paths", t0 + args.seconds)
    author = Author(args, latest[:6], work / "soak-edits.jsonl")
    readers.start()
    author.start()
    outages = {}
    time.sleep(max(0, t0 + args.redis_kill_at - time.time()))
    print(f"soak: killing Redis at {round(time.time() - t0, 1)} s", flush=True)
    outages["redis"] = kill_and_restart_redis(args)
    time.sleep(max(0, t0 + args.pg_restart_at - time.time()))
    print(f"soak: restarting PostgreSQL at {round(time.time() - t0, 1)} s", flush=True)
    outages["postgresql"] = restart_postgres(args)
    readers.join()
    author.join()
    verify = json.loads(
        subprocess.run(
            [sys.executable, "-m", "bench.soak_editor", "verify",
             "--log", str(work / "soak-edits.jsonl")],
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout
    )  # fmt: skip
    (work / "soak-segments.json").write_text(json.dumps(readers.segments))
    (work / "soak-checks.json").write_text(json.dumps(author.checks))
    text, ok = report(args, readers, author, verify, outages, missing, paths)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
