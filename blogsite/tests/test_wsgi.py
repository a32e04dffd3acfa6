"""blogsite.wsgi: what gunicorn loads once (preload_app) before forking its workers."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_loaded_site_is_frozen_out_of_the_garbage_collectors_way():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(SECRET_KEY="x", DEBUG="false", DJANGO_SETTINGS_MODULE="blogsite.settings")
    code = (
        "import gc; before = gc.get_freeze_count(); import blogsite.wsgi; "
        "print(before, gc.get_freeze_count(), sum(gc.get_count()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    before, frozen, tracked = map(int, result.stdout.split())
    assert before == 0
    # Django and the apps: tens of thousands of long-lived objects, none left to collect.
    assert frozen > 20_000
    assert tracked < 1_000
