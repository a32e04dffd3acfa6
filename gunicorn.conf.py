"""gunicorn settings; every value can be overridden by the environment."""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 8)))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30  # finish in-flight requests on SIGTERM
keepalive = 5
# No worker recycling by default: at cache-hit rates a limit of a few thousand
# requests restarted each worker every few seconds (measured p99 772 ms vs 16 ms
# without). Set MAX_REQUESTS only to contain a leak; preload_app makes each
# restart a fork of the loaded app rather than a fresh Django import.
max_requests = int(os.environ.get("MAX_REQUESTS", 0))
max_requests_jitter = max_requests // 10
preload_app = True
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - heartbeat files
# Off: the app logs one line per request itself (core.requestlog), cache hits included.
# GUNICORN_ACCESSLOG=- brings gunicorn's own line back (both would then be written).
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# No control socket: it has one fixed path per user, so two gunicorns on one host
# (several sites, a benchmark, a second `make run`) would fight over it.
control_socket_disable = True
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
