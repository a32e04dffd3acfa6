"""blogsite.wsgi: what gunicorn loads once (preload_app) before forking its workers."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_fresh(code: str) -> str:
    """What `code` prints in a new interpreter, as gunicorn would start the site."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(SECRET_KEY="x", DEBUG="false", DJANGO_SETTINGS_MODULE="blogsite.settings")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_loaded_site_is_frozen_out_of_the_garbage_collectors_way():
    code = (
        "import gc; before = gc.get_freeze_count(); import blogsite.wsgi; "
        "print(before, gc.get_freeze_count(), sum(gc.get_count()))"
    )
    output = run_fresh(code)
    before, frozen, tracked = map(int, output.split())
    assert before == 0
    # Django and the apps: tens of thousands of long-lived objects, none left to collect.
    assert frozen > 20_000
    assert tracked < 1_000


def test_what_the_first_requests_leave_is_frozen_once_the_worker_has_warmed_up():
    code = (
        "import gc; import blogsite.wsgi as w; from django.core.signals import request_finished\n"
        "kept = [[n] for n in range(5000)]  # long-lived objects made while serving\n"
        "for _ in range(w.FREEZE_AFTER - 1): request_finished.send(sender=None)\n"
        "before = gc.get_freeze_count()\n"
        "request_finished.send(sender=None)\n"
        "after = gc.get_freeze_count()\n"
        "request_finished.send(sender=None)\n"
        "print(before, after, gc.get_freeze_count(), len(gc.get_objects()))"
    )
    output = run_fresh(code)
    before, after, later, collectable = map(int, output.split())
    assert after >= before + 5000  # the objects made after start-up, frozen at the 200th
    assert later == after  # once only: the receiver is gone
    assert collectable < 1_000
