"""The benchmark's own logic (bench/): what it counts as stale, how it reads wrk,
and that a run without responses is reported as a failure. No servers needed."""

from bench.checker import classify, listing_verdict, superseded
from bench.page_timings import percentile
from bench.report import build, parse_wrk

WRK_OK = (
    'WRKJSON {"requests":20000,"duration_us":10000000,"bytes":1,"p50_us":9000,"p90_us":12000,'
    '"p99_us":18000,"max_us":30000,"mean_us":9500.0,"connect_errors":0,"read_errors":0,'
    '"write_errors":0,"status_errors":0,"timeouts":0}\n'
)
WRK_NOTHING = WRK_OK.replace('"requests":20000', '"requests":0').replace(
    '"read_errors":0', '"read_errors":4681'
)


def test_old_title_on_the_page_is_stale_even_next_to_the_new_one():
    page = "<h1>Bench edit 1 #0002</h1><li>Bench edit 1 #0001</li>"
    assert classify(200, page, "Bench edit 1 #0001", "Bench edit 1 #0002") == "stale"
    assert classify(200, page, "Gone", "Bench edit 1 #0002") == "fresh"
    assert classify(200, "<p>other posts</p>", "Old", "New") == "absent"
    assert classify(503, page, "Old", "New") == "error"


def test_a_post_page_showing_a_later_edit_is_not_stale_but_an_earlier_one_is():
    page = "<h1>Bench edit 1 #0012</h1>"
    assert superseded(page, "Bench edit 1 #0002")
    assert not superseded(page, "Bench edit 1 #0013")
    assert not superseded("<h1>Bench start 1 demo-0</h1>", "Bench edit 1 #0002")


def test_a_listing_is_judged_by_the_title_linked_to_the_edited_post():
    page = (
        '<a href="/posts/demo-1/">Bench edit 1 #0011</a>'
        '<a href="/posts/demo-2/">Bench edit 1 #0002</a>'
    )
    assert listing_verdict(page, "demo-2", "Bench edit 1 #0005") == "stale"  # an older edit
    assert listing_verdict(page, "demo-1", "Bench edit 1 #0001") == "fresh"  # a later one
    assert listing_verdict(page, "demo-3", "Bench edit 1 #0003") == "absent"
    # A later edit of another post on the same page does not make this one fresh.
    assert listing_verdict(page, "demo-2", "Bench edit 1 #0009") == "stale"


def test_titles_are_compared_as_the_template_escapes_them():
    assert classify(200, "<h1>Don&#x27;t cache me</h1>", "Old", "Don't cache me") == "fresh"


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([7.0], 99) == 7.0


def test_parse_wrk_reads_the_json_line_and_derives_requests_per_second(tmp_path):
    out = tmp_path / "wrk-hit.txt"
    out.write_text("Running 10s test @ http://127.0.0.1:1/\n" + WRK_OK)
    data = parse_wrk(out)
    assert data["rps"] == 2000.0
    assert data["p99_us"] == 18000
    assert data["errors"] == 0
    assert parse_wrk(tmp_path / "missing.txt") is None


def test_report_ratios_and_a_hit_case_without_responses_fails_its_target(tmp_path):
    (tmp_path / "params").write_text("seed_s=120.5\npage_bytes=30000\npost_slug=demo-0\n")
    (tmp_path / "cases.tsv").write_text(
        "name\tlabel\turl\tstatus\tcache\trhits\trmisses\n"
        "nginx\t(1) nginx\thttp://127.0.0.1:1/post.html\t200\t\t0\t0\n"
        "bare\t(2) bare\thttp://127.0.0.1:2/\t200\t\t0\t0\n"
        "hit\t(3) hit\thttp://127.0.0.1:3/posts/demo-0/\t200\thit\t4681\t0\n"
        "tag\t(5) tag\thttp://127.0.0.1:4/tags/x/\t404\t\t\t\n"
    )
    (tmp_path / "wrk-nginx.txt").write_text(WRK_OK.replace('"requests":20000', '"requests":400000'))
    (tmp_path / "wrk-bare.txt").write_text(WRK_OK)
    (tmp_path / "wrk-hit.txt").write_text(WRK_NOTHING)
    report = build(tmp_path)
    assert "| (2) bare | 2,000 | 9.00 | 18.00 | 0.050 | 1.000 | 0 |  |" in report
    assert "no responses (4681 socket/status errors)" in report
    assert "`http://127.0.0.1:4/tags/x/` answered 404" in report
    assert "| cache hit >= 1.0x floor | - | **NO** |" in report
    assert "| seeding < 300 s | 120.5 s | yes |" in report


def test_alternated_rounds_report_each_ratio_and_the_median_against_the_target(tmp_path):
    (tmp_path / "params").write_text("seed_s=120.5\n")
    (tmp_path / "cases.tsv").write_text("name\tlabel\turl\tstatus\tcache\trhits\trmisses\n")
    for n, hit_requests in ((1, 18000), (2, 22000), (3, 21000)):
        (tmp_path / f"pair-bare-{n}.txt").write_text(WRK_OK)
        (tmp_path / f"pair-hit-{n}.txt").write_text(
            WRK_OK.replace('"requests":20000', f'"requests":{hit_requests}')
        )
    report = build(tmp_path)
    assert "| 1 | 2,000 | 1,800 | 18.00 | 0.900 |" in report
    assert "| 2 | 2,000 | 2,200 | 18.00 | 1.100 |" in report
    assert "Median hit / floor over the rounds: **1.050**." in report
    assert "| cache hit >= 1.0x floor, median of the alternated rounds | 1.050x | yes |" in report
    (tmp_path / "pair-hit-2.txt").write_text(WRK_OK.replace('"requests":20000', '"requests":1000'))
    assert "floor, median of the alternated rounds | 0.900x | **NO** |" in build(tmp_path)


def test_memory_rounds_report_rss_after_10k_requests_and_growth(tmp_path):
    (tmp_path / "params").write_text("seed_s=120.5\n")
    (tmp_path / "cases.tsv").write_text("name\tlabel\turl\tstatus\tcache\trhits\trmisses\n")
    (tmp_path / "memory.tsv").write_text(
        "30\t6000\t61440,62464\n"  # 60.0 and 61.0 MiB
        "60\t6000\t63488,62464\n"  # 12,000 requests: largest 62.0 MiB
        "90\t6000\t66560,62464\n"  # 65.0 MiB: 3 MiB more than at 60 s
    )
    report = build(tmp_path)
    assert "| 60 | 12,000 | 62.0, 61.0 |" in report
    rss = "| worker RSS < 80 MiB after 10,000 mixed requests | 62.0 MiB after 12,000 | yes |"
    growth = "| no RSS growth after the first minute (< 2 MiB) | +3.0 MiB over 30 s | **NO** |"
    assert rss in report
    assert growth in report
