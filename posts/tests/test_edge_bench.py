"""The benchmark report's edge figures (bench/report.py): the Varnish hit case
against nginx's static file, its targets, and the mixed run through Varnish."""

import json

from bench.report import build

WRK = (
    'WRKJSON {{"requests":{n},"duration_us":10000000,"bytes":1,"p50_us":900,"p90_us":1200,'
    '"p99_us":{p99},"max_us":30000,"mean_us":950.0,"connect_errors":0,"read_errors":0,'
    '"write_errors":0,"status_errors":0,"timeouts":0,"hits":{n},"misses":0,"uncached":0,'
    '"non_200":0}}\n'
)


def run_dir(tmp_path, varnish_requests: int, varnish_p99_us: int, stale: int):
    (tmp_path / "params").write_text("seed_s=10\npage_bytes=30000\npost_slug=demo-0\n")
    (tmp_path / "cases.tsv").write_text(
        "name\tlabel\turl\tstatus\tcache\trhits\trmisses\n"
        "nginx\t(1) nginx\thttp://127.0.0.1:1/post.html\t200\t\t0\t0\n"
        "varnish\t(6) Varnish hit\thttp://127.0.0.1:2/posts/demo-0/\t200\thit\t0\t0\n"
    )
    (tmp_path / "wrk-nginx.txt").write_text(WRK.format(n=400000, p99=2000))
    (tmp_path / "wrk-varnish.txt").write_text(WRK.format(n=varnish_requests, p99=varnish_p99_us))
    (tmp_path / "wrk-mixed-edge.txt").write_text(WRK.format(n=90000, p99=3000))
    checker = {
        "edits": 12,
        "pages": {"post": {"checked": 12, "fresh": 12 - stale, "stale": stale, "absent": 0,
                           "errors": 0}},
        "stale": stale,
        "stale_examples": [
            {"edit": 3, "page": "/posts/demo-0/", "verdict": "stale", "status": 200,
             "cache": "hit", "title": "Bench edit 1 #0002", "expected": "Bench edit 1 #0003"}
        ][:stale],
    }  # fmt: skip
    (tmp_path / "checker-edge.json").write_text(json.dumps(checker))
    return build(tmp_path)


def test_a_varnish_hit_at_two_thirds_of_nginx_with_a_low_p99_meets_its_targets(tmp_path):
    report = run_dir(tmp_path, varnish_requests=280000, varnish_p99_us=4000, stale=0)
    assert "| (6)/(1) | 0.700 | Varnish hit vs nginx's static file (target >= 0.6) |" in report
    assert "| Varnish hit >= 0.6x nginx static | 0.700x | yes |" in report
    assert "| Varnish hit p99 < 10 ms | 4.00 ms | yes |" in report
    assert "## Mixed reads with an edit every second (through Varnish, purged by tag)" in report
    assert "| zero stale responses (through Varnish, purged by tag) | 0 | yes |" in report


def test_a_slow_varnish_or_a_stale_page_through_it_fails_the_targets(tmp_path):
    report = run_dir(tmp_path, varnish_requests=200000, varnish_p99_us=12000, stale=1)
    assert "| Varnish hit >= 0.6x nginx static | 0.500x | **NO** |" in report
    assert "| Varnish hit p99 < 10 ms | 12.00 ms | **NO** |" in report
    assert "| zero stale responses (through Varnish, purged by tag) | 1 | **NO** |" in report
    assert "edit 3 `/posts/demo-0/` stale (cache: hit;" in report
