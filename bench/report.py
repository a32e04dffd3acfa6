"""Turn one bench/run.sh work directory into the markdown results file."""

import argparse
import csv
import json
import os
import platform
import re
import statistics
from datetime import date
from pathlib import Path

# Targets from the issue; bench/README.md explains them.
HIT_FLOOR_RATIO = 1.0  # issue 12: a hit, with JSON request logging on, at the floor
HIT_P99_MS = 20.0
EDGE_NGINX_RATIO = 0.6
EDGE_P99_MS = 10.0
MISS_FLOOR_RATIO = 0.05  # issue 12
RSS_LIMIT_MIB = 80.0  # issue 12: per worker after 10,000 mixed requests
RSS_AFTER_REQUESTS = 10_000
UNCACHED_P95_MS = 20.0  # issue 12's target, server-side
SEED_LIMIT_S = 300.0
# A listing may not read every post; these pages list every post by design.
FULL_SCAN_EXPECTED = {"sitemap"}


def read_json(path: Path):
    return json.loads(path.read_text()) if path.exists() else None


def memory_section(work: Path, add, targets: list) -> None:
    """Worker RSS over the long mixed uncached run (bench/run.sh, 5b)."""
    rounds = []
    path = work / "memory.tsv"
    for line in path.read_text().splitlines() if path.exists() else []:
        seconds, requests, kbs = [*line.split("\t"), "", ""][:3]
        mib = [int(kb) / 1024 for kb in kbs.split(",") if kb.strip().isdigit()]
        if seconds.isdigit() and mib:
            rounds.append((int(seconds), int(requests or 0), mib))
    if not rounds:
        return
    add("## Worker memory over a long mixed run (cache off)")
    add("")
    add("Mixed uncached reads of every page type (search, deep pages, sitemaps and feed")
    add("included) in rounds; after each round, every worker's RSS.")
    add("")
    add("| seconds | requests so far | RSS per worker MiB |")
    add("| ---: | ---: | --- |")
    total = 0
    after_10k = None
    for seconds, requests, mib in rounds:
        total += requests
        if after_10k is None and total >= RSS_AFTER_REQUESTS:
            after_10k = (total, max(mib))
        add(f"| {seconds} | {total:,} | {', '.join(f'{m:.1f}' for m in mib)} |")
    add("")
    first_minute = next((r for r in rounds if r[0] >= 60), rounds[0])
    growth = max(rounds[-1][2]) - max(first_minute[2])
    add(
        f"Largest worker: {max(first_minute[2]):.1f} MiB at {first_minute[0]} s, "
        f"{max(rounds[-1][2]):.1f} MiB at {rounds[-1][0]} s ({growth:+.1f} MiB)."
    )
    add("")
    if after_10k:
        targets.append(
            (
                f"worker RSS < {RSS_LIMIT_MIB:.0f} MiB after {RSS_AFTER_REQUESTS:,} mixed requests",
                f"{after_10k[1]:.1f} MiB after {after_10k[0]:,}",
                after_10k[1] < RSS_LIMIT_MIB,
            )
        )
    if rounds[-1][0] > first_minute[0]:
        targets.append(
            (
                "no RSS growth after the first minute (< 2 MiB)",
                f"{growth:+.1f} MiB over {rounds[-1][0] - first_minute[0]} s",
                growth < 2.0,
            )
        )


def read_words(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def read_kv(path: Path) -> dict[str, str]:
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                out[key.strip()] = value.strip()
    return out


def parse_wrk(path: Path) -> dict | None:
    """The WRKJSON line our Lua done() writes, plus req/s; None if wrk did not finish."""
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        if line.startswith("WRKJSON "):
            data = json.loads(line.removeprefix("WRKJSON "))
            data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
            data["errors"] = sum(
                data[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors")
            )
            return data
    return None


def ms(us: float) -> str:
    return f"{us / 1000:.2f}"


def ok(flag: bool | None) -> str:
    return "n/a" if flag is None else ("yes" if flag else "**NO**")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gib() -> str:
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        return f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        return "unknown"


def pairs_table(work: Path, add) -> float | None:
    """The floor and the cache hit measured turn about (bench/run.sh): each
    round's figures and ratio; returns the median ratio, or None if not run."""
    rounds = []
    n = 1
    while (work / f"pair-bare-{n}.txt").exists():
        bare, hit = (parse_wrk(work / f"pair-{name}-{n}.txt") for name in ("bare", "hit"))
        if bare and hit and bare["rps"]:
            rounds.append((n, bare, hit, hit["rps"] / bare["rps"]))
        n += 1
    if not rounds:
        return None
    add(
        "The floor (2) and the cache hit (3) again, alternated: 10 s each, "
        "the order swapped each round:"
    )
    add("")
    add("| round | bare Django req/s | cache hit req/s | hit p99 ms | hit / floor |")
    add("| ---: | ---: | ---: | ---: | ---: |")
    for n, bare, hit, r in rounds:
        add(f"| {n} | {bare['rps']:,.0f} | {hit['rps']:,.0f} | {ms(hit['p99_us'])} | {r:.3f} |")
    median = statistics.median(r for *_, r in rounds)
    add("")
    add(f"Median hit / floor over the rounds: **{median:.3f}**.")
    add("")
    return median


def build(work: Path) -> str:
    params = read_kv(work / "params")
    versions = read_kv(work / "versions")
    counts = (work / "counts").read_text().split() if (work / "counts").exists() else []
    lines: list[str] = []
    add = lines.append
    targets: list[tuple[str, str, bool | None]] = []

    add(f"# blogsite benchmark, {date.today().isoformat()}")
    add("")
    add(
        f"- Machine: {os.cpu_count()} CPUs (nproc), {cpu_model()}, {ram_gib()} RAM, "
        f"kernel {versions.get('kernel', '?')}; load average at start {params.get('load_start')}, "
        f"at end {params.get('load_end')} (1/5/15 min)"
    )
    add(
        "- Versions: "
        + ", ".join(
            f"{k} {versions[k]}"
            for k in (
                "commit",
                "python",
                "django",
                "gunicorn",
                "postgresql",
                "redis",
                "nginx",
                "varnish",
                "wrk",
            )
            if k in versions
        )
    )
    add(
        f"- Load: wrk -t{params.get('threads')} -c{params.get('connections')} "
        f"-d{params.get('duration')} after a {params.get('warmup')} warm-up, against 127.0.0.1; "
        f"gunicorn {os.environ.get('WEB_CONCURRENCY', '2')} sync workers for every Django case, "
        f"the shipped gunicorn.conf.py, DEBUG off, worker recycling "
        f"{'off' if params.get('max_requests', '0') == '0' else 'every ' + params['max_requests']}"
    )
    add(
        f"- Page: /posts/{params.get('post_slug')}/, {int(params.get('page_bytes', 0)):,} bytes "
        "(saved once; nginx and the bare view serve exactly these bytes)"
    )
    add(f"- Whole run: {os.environ.get('BENCH_TOTAL_S', '?')} s")
    add("")

    # --- Seeding
    add("## Database")
    add("")
    if len(counts) >= 6:
        add("| posts | tags | authors | post-tag rows | authorship rows | database size |")
        add("| ---: | ---: | ---: | ---: | ---: | ---: |")
        add(
            f"| {int(counts[0]):,} | {int(counts[1]):,} | {int(counts[2]):,} | "
            f"{int(counts[3]):,} | {int(counts[4]):,} | {' '.join(counts[5:])} |"
        )
        add("")
    seed_s = float(params.get("seed_s", "nan"))
    add(
        f"`{params.get('seeder', 'manage.py seed_demo')} --posts {params.get('posts')} "
        f"--authors {params.get('authors')} "
        f"--tags {params.get('tags')}`: **{seed_s:.1f} s** (migrate {params.get('migrate_s')} s, "
        f"VACUUM ANALYZE {params.get('analyze_s')} s)."
    )
    add("")
    targets.append(("seeding < 300 s", f"{seed_s:.1f} s", seed_s < SEED_LIMIT_S))

    # --- Throughput
    cases = list(csv.DictReader((work / "cases.tsv").open(), delimiter="\t"))
    raw = {c["name"]: parse_wrk(work / f"wrk-{c['name']}.txt") for c in cases}
    # A run with no successful response has no figures to compare.
    wrk = {k: v for k, v in raw.items() if v and v["requests"]}
    floor = (wrk.get("bare") or {}).get("rps")
    limit = (wrk.get("nginx") or {}).get("rps")
    add("## Throughput and latency")
    add("")
    add("| case | req/s | p50 ms | p99 ms | x nginx | x bare Django | errors | notes |")
    add("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for c in cases:
        w = wrk.get(c["name"])
        if c["status"] != "200":
            add(f"| {c['label']} | - | - | - | - | - | - | `{c['url']}` answered {c['status']} |")
            continue
        if w is None:
            r = raw.get(c["name"])
            why = (
                f"no responses ({r['errors']} socket/status errors)" if r else "wrk gave no result"
            )
            add(f"| {c['label']} | - | - | - | - | - | {r['errors'] if r else '-'} | {why} |")
            continue
        notes = []
        if c["cache"]:
            header = "X-Edge-Cache" if c["name"] == "varnish" else "X-Page-Cache"
            notes.append(f"{header}: {c['cache']}")
        if c["name"] == "varnish" and c["cache"] != "hit":
            notes.append("**not served from Varnish's cache**")
        if c["name"] == "hit" and c["cache"] != "hit":
            notes.append("**not served from the cache**")
        if c["name"] == "hit" and w["requests"]:
            notes.append(f"Redis GET hits {int(c['rhits']) / w['requests']:.2f} per request")
        if w["status_errors"]:
            notes.append(f"{w['status_errors']} non-2xx/3xx")
        x_limit = f"{w['rps'] / limit:.3f}" if limit else "-"
        x_floor = f"{w['rps'] / floor:.3f}" if floor else "-"
        add(
            f"| {c['label']} | {w['rps']:,.0f} | {ms(w['p50_us'])} | {ms(w['p99_us'])} | "
            f"{x_limit} | {x_floor} | {w['errors']} | {'; '.join(notes)} |"
        )
    add("")

    sustain = [
        parse_wrk(path)
        for path in sorted(work.glob("sustain-*.txt"), key=lambda p: int(p.stem.split("-")[1]))
    ]
    if sustain:
        add("Sustained cache hits, the same post page, 10 s rounds back to back:")
        add("")
        add("| seconds | req/s | p50 ms | p99 ms | errors |")
        add("| --- | ---: | ---: | ---: | ---: |")
        for n, w in enumerate(sustain):
            if w:
                add(
                    f"| {n * 10}-{n * 10 + 10} | {w['rps']:,.0f} | {ms(w['p50_us'])} | "
                    f"{ms(w['p99_us'])} | {w['errors']} |"
                )
        rates = [w["rps"] for w in sustain if w]
        if rates:
            drop = 1 - min(rates) / max(rates)
            worst_p99 = max(w["p99_us"] for w in sustain if w) / 1000
            add("")
            add(f"Slowest round {drop:.1%} below the fastest; worst p99 {worst_p99:.1f} ms.")
            targets.append(("sustained hits: p99 < 20 ms", f"{worst_p99:.1f} ms", worst_p99 < 20))
            targets.append(("sustained hits: no drop > 10%", f"{drop:.1%}", drop < 0.10))
        add("")

    pair_ratio = pairs_table(work, add)

    def ratio(a: str, b: str) -> float | None:
        wa, wb = wrk.get(a), wrk.get(b)
        return wa["rps"] / wb["rps"] if wa and wb and wb["rps"] else None

    add("| ratio | value | meaning |")
    add("| --- | ---: | --- |")
    for a, b, meaning in (
        ("hit", "nginx", "cache hit vs the machine's limit"),
        ("hit", "bare", "cache hit vs the framework floor (target >= 1.0)"),
        ("miss", "bare", "uncached post page vs the floor (target >= 0.05)"),
        ("varnish", "nginx", "Varnish hit vs nginx's static file (target >= 0.6)"),
        ("varnish", "hit", "Varnish hit vs the app's own cache hit"),
    ):
        r = ratio(a, b)
        number = {"hit": "3", "miss": "4", "varnish": "6", "nginx": "1", "bare": "2"}
        add(f"| ({number[a]})/({number[b]}) | {'-' if r is None else f'{r:.3f}'} | {meaning} |")
    add("")

    def speed_targets(case: str, versus: str, rate: str, min_ratio: float, p99: str, max_ms: float):
        r = ratio(case, versus)
        measured = wrk.get(case)
        p99_ms = measured["p99_us"] / 1000 if measured else None
        # A case that ran but got no responses is a failure, not "not measured".
        failed = None if raw.get(case) is None else False
        targets.append(
            (rate, "-" if r is None else f"{r:.3f}x", failed if r is None else r >= min_ratio)
        )
        targets.append(
            (
                p99,
                "-" if p99_ms is None else f"{p99_ms:.2f} ms",
                failed if p99_ms is None else p99_ms < max_ms,
            )
        )

    speed_targets(
        "hit",
        "bare",
        f"cache hit >= {HIT_FLOOR_RATIO}x floor",
        HIT_FLOOR_RATIO,
        "cache hit p99 < 20 ms",
        HIT_P99_MS,
    )
    speed_targets(
        "varnish",
        "nginx",
        "Varnish hit >= 0.6x nginx static",
        EDGE_NGINX_RATIO,
        "Varnish hit p99 < 10 ms",
        EDGE_P99_MS,
    )
    if pair_ratio is not None:
        targets.append(
            (
                f"cache hit >= {HIT_FLOOR_RATIO}x floor, median of the alternated rounds",
                f"{pair_ratio:.3f}x",
                pair_ratio >= HIT_FLOOR_RATIO,
            )
        )
    r = ratio("miss", "bare")
    targets.append(
        (
            f"uncached post >= {MISS_FLOOR_RATIO}x floor",
            "-" if r is None else f"{r:.3f}x",
            None if r is None else r >= MISS_FLOOR_RATIO,
        )
    )

    # --- In-process page timings
    pages = read_json(work / "pages.json") or {}
    add("## Uncached server-side time per page (in-process, page cache off)")
    add("")
    add(
        "| page | path | status | runs | p50 ms | p95 ms | CPU p50 ms | CPU p95 ms | DB ms "
        f"| queries | bytes | p95 < {UNCACHED_P95_MS:.0f} ms |"
    )
    add("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    worst = None
    for p in pages.get("pages", []):
        if p.get("status") != 200:
            note = p.get("note", "missing" if p.get("status") == 404 else "")
            add(
                f"| {p['name']} | `{p['path']}` | {p.get('status')} | - | - | - | - | - | - "
                f"| - | - | n/a {note} |"
            )
            continue
        good = p["p95_ms"] < UNCACHED_P95_MS
        if worst is None or p["p95_ms"] > worst[1]:
            worst = (p["name"], p["p95_ms"])
        add(
            f"| {p['name']} | `{p['path']}` | 200 | {p['n']} | {p['p50_ms']:.1f} | "
            f"{p['p95_ms']:.1f} | {p.get('cpu_p50_ms', '-')} | {p.get('cpu_p95_ms', '-')} | "
            f"{p.get('db_exec_ms', '-')} | {p['queries']} | {p['bytes']:,} | {ok(good)} |"
        )
    add("")
    measured = [p for p in pages.get("pages", []) if p.get("status") == 200]
    missing = [p["name"] for p in pages.get("pages", []) if p.get("status") != 200]
    targets.append(
        (
            f"every uncached page < {UNCACHED_P95_MS:.0f} ms p95",
            (f"worst: {worst[0]} {worst[1]:.1f} ms" if worst else "-")
            + (f"; not measured (missing): {', '.join(missing)}" if missing else ""),
            None if not measured else all(p["p95_ms"] < UNCACHED_P95_MS for p in measured),
        )
    )

    # --- Memory
    add("## Worker memory after the load (RSS)")
    add("")
    rss: dict[str, list[int]] = {}
    if (work / "rss").exists():
        for line in (work / "rss").read_text().splitlines():
            name, _, kb = line.partition(" ")
            if kb.strip().isdigit():
                rss.setdefault(name, []).append(int(kb))
    add("| server | workers | RSS per worker MiB |")
    add("| --- | ---: | --- |")
    for name, label in (
        ("bare", "bare Django"),
        ("cached", "blogsite, cache on"),
        ("uncached", "blogsite, cache off"),
    ):
        kbs = rss.get(name, [])
        add(f"| {label} | {len(kbs)} | {', '.join(f'{kb / 1024:.1f}' for kb in kbs) or '-'} |")
    add("")

    memory_section(work, add, targets)

    # --- Mixed workload: on the cached server, then through Varnish
    for suffix, where in (("", "cache on"), ("-edge", "through Varnish, purged by tag")):
        if suffix and not (work / f"wrk-mixed{suffix}.txt").exists():
            continue
        add(f"## Mixed reads with an edit every second ({where})")
        add("")
        mixed = parse_wrk(work / f"wrk-mixed{suffix}.txt")
        paths = read_words(work / "mixed-paths")
        gone = read_words(work / "mixed-missing")
        checker = read_json(work / f"checker{suffix}.json")
        redis = read_kv(work / f"mixed-redis{suffix}")
        add(f"Readers rotate over {len(paths)} URLs: {', '.join(f'`{p}`' for p in paths)}.")
        if gone:
            add(f"Left out (not 200 yet): {', '.join(f'`{p}`' for p in gone)}.")
        add("")
        if mixed:
            seen = mixed["hits"] + mixed["misses"]
            ratio_wrk = mixed["hits"] / seen if seen else None
            rh, rm = int(redis.get("redis_hits", 0)), int(redis.get("redis_misses", 0))
            add(
                "| req/s | p50 ms | p99 ms | responses | hit | miss | no header | non-200 | "
                "hit ratio (wrk) | Redis keyspace hits/misses |"
            )
            add("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
            add(
                f"| {mixed['rps']:,.0f} | {ms(mixed['p50_us'])} | {ms(mixed['p99_us'])} | "
                f"{mixed['requests']:,} | {mixed['hits']:,} | {mixed['misses']:,} | "
                f"{mixed['uncached']:,} | {mixed['non_200']:,} | "
                f"{'-' if ratio_wrk is None else f'{ratio_wrk:.4f}'} | {rh:,} / {rm:,} |"
            )
            add("")
            add(
                "Redis keyspace counts include the page store's own reads (generation token, "
                "tag versions), so the wrk count is the page hit ratio."
            )
            add("")
        else:
            add("wrk gave no result for the mixed run.")
            add("")
        if checker:
            add(
                f"Edits: {checker['edits']} (a new title each second, saved through "
                f"posts.services as the admin does). After each commit the checker fetched:"
            )
            add("")
            add("| page | checked | fresh | **stale** | post not on page | errors |")
            add("| --- | ---: | ---: | ---: | ---: | ---: |")
            for kind, s in checker["pages"].items():
                add(
                    f"| {kind} | {s['checked']} | {s['fresh']} | {s['stale']} | {s['absent']} | "
                    f"{s['errors']} |"
                )
            add("")
            if checker["stale_examples"]:
                add(
                    "Stale or absent responses: "
                    + "; ".join(
                        f"edit {e['edit']} `{e['page']}` {e['verdict']} "
                        f"(cache: {e['cache'] or 'none'}; "
                        f"title {e['title']!r}, expected {e['expected']!r})"
                        for e in checker["stale_examples"]
                    )
                )
                add("")
            targets.append(
                (
                    f"zero stale responses ({where})",
                    str(checker["stale"]),
                    checker["stale"] == 0 and checker["edits"] > 0,
                )
            )
        else:
            add("The checker wrote no result.")
            add("")
            targets.append((f"zero stale responses ({where})", "checker failed", False))

    # --- Targets
    add("## Targets")
    add("")
    add("| target | measured | met |")
    add("| --- | --- | --- |")
    for name, value, flag in targets:
        add(f"| {name} | {value} | {ok(flag)} |")
    add("")

    # --- Plans
    plans = pages.get("plans", [])
    add("## Query plans (EXPLAIN ANALYZE of every query reading posts_post)")
    add("")
    if plans:
        add("| page | query | exec ms | sequential scans | full scan of posts? |")
        add("| --- | ---: | ---: | --- | --- |")
        counter: dict[str, int] = {}
        for plan in plans:
            counter[plan["page"]] = counter.get(plan["page"], 0) + 1
            plan["n"] = counter[plan["page"]]
            scans = plan["seq_scans"]
            verdict = "-"
            if "posts_post" in scans:
                verdict = (
                    "expected (lists every post)"
                    if plan["page"] in FULL_SCAN_EXPECTED
                    else "**yes**"
                )
            add(
                f"| {plan['page']} | {plan['n']} | {plan['exec_ms']:.2f} | "
                f"{', '.join(scans) or 'none'} | {verdict} |"
            )
        add("")
        for plan in plans:
            add(f"### {plan['page']}, query {plan['n']}")
            add("")
            add("```sql")
            add(plan["sql"])
            add("```")
            add("")
            add("```")
            add(plan["plan"])
            add("```")
            add("")
    else:
        add("No plans (no page rendered, or not PostgreSQL).")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    args.out.write_text(build(args.work))


if __name__ == "__main__":
    main()
