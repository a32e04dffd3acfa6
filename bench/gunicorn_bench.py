"""The project's gunicorn.conf.py with what would skew a benchmark turned off.

Every gunicorn case (bare floor, cached, uncached) loads this file, so they all
run with the same worker settings: WEB_CONCURRENCY sync workers, no access log.
"""

import os
import runpy
from pathlib import Path

_base = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
globals().update({k: v for k, v in _base.items() if not k.startswith("_")})

accesslog = None  # formatting and writing a log line per request is not what we measure
loglevel = "warning"
# Recycling a worker re-imports Django mid-run; 0 keeps it out of short runs
# (BENCH_MAX_REQUESTS=5000 measures the production setting).
max_requests = int(os.environ.get("BENCH_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
