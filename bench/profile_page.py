"""Where an uncached page's CPU goes: the top entries of a cProfile of many renders.

    python -m bench.profile_page /posts/some-slug/ [--runs 200] [--top 10]

Renders the page in-process (django.test.Client, page cache off) and prints the
functions with the most own time, grouped by where they live (our code, Django's
template engine, Jinja2, the ORM, psycopg...), so two commits can be compared
side by side. cProfile roughly doubles the cost of every Python call, so read the
shares, not the milliseconds.
"""

import argparse
import cProfile
import importlib
import os
import pstats
import time
from collections import Counter

AREAS = (
    ("django/template/", "Django templates"),
    ("jinja2/", "Jinja2"),
    ("django/db/models/", "Django ORM"),
    ("django/db/backends/", "Django DB layer"),
    ("psycopg", "psycopg + waiting for PostgreSQL"),
    ("site-packages/django/", "Django (other)"),
    ("/posts/", "blogsite posts/"),
    ("/core/", "blogsite core/"),
)


def area(filename: str) -> str:
    for part, name in AREAS:
        if part in filename:
            return name
    return "Python and other libraries"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    os.environ["PAGE_CACHE_ENABLED"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blogsite.settings")
    importlib.import_module("blogsite.wsgi")  # set up as a gunicorn worker is
    from django.test import Client

    client = Client()
    for _ in range(10):  # warm: compiled templates, prepared queries
        response = client.get(args.path)
    if response.status_code != 200:
        raise SystemExit(f"profile_page: {args.path} answered {response.status_code}")
    start = time.process_time()
    for _ in range(args.runs):
        client.get(args.path)
    cpu_ms = (time.process_time() - start) * 1000 / args.runs
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.runs):
        client.get(args.path)
    profile.disable()
    stats = pstats.Stats(profile).stats
    total = sum(tt for (_cc, _nc, tt, _ct, _callers) in stats.values())
    print(f"{args.path}: {cpu_ms:.2f} ms CPU a render unprofiled ({args.runs} runs)")
    print(f"\nTop {args.top} functions by own time (share of the profiled total):")
    ranked = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)
    for (filename, line, name), (_cc, calls, own, _ct, _callers) in ranked[: args.top]:
        where = filename.split("site-packages/")[-1].replace(os.getcwd() + "/", "")
        share, per_render = 100 * own / total, calls / args.runs
        print(f"  {share:5.1f}%  {per_render:7.1f}/render  {name}  {where}:{line}")
    areas = Counter()
    for (filename, _line, _name), (_cc, _nc, own, _ct, _callers) in stats.items():
        areas[area(filename)] += own
    print("\nOwn time by area:")
    for name, own in areas.most_common():
        print(f"  {100 * own / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()
