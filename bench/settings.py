"""blogsite.settings for the benchmark; the only change is STATIC_ROOT, moved to
the run's temp dir so collectstatic never touches the project's var/."""

import os

from blogsite.settings import *  # noqa: F403

STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]
