"""Real servers for the edge tests: varnishd with deploy/varnish/default.vcl, and
gunicorn app servers on the test database. Everything on 127.0.0.1 free ports,
in a private directory, stopped by the fixture that started it.

scripts/ensure-varnish.sh (run by `make test`) installs Varnish and Redis Sentinel.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
VCL = ROOT / "deploy" / "varnish" / "default.vcl"
SITE_VCL = ROOT / "scripts" / "varnish-site-vcl.py"
VARNISHD = shutil.which("varnishd") or "/usr/sbin/varnishd"
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
PASSWORD = "correct horse battery staple"  # accounts.tests.factories.UserFactory's


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port} after {seconds}s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def request(
    port: int, path: str, method: str = "GET", headers: dict | None = None, source: str = ""
) -> tuple[int, dict[str, str], str]:
    """(status, headers, body) of one request to 127.0.0.1:port, from `source` if given."""
    conn = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=30, source_address=(source, 0) if source else None
    )
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        body = response.read().decode("utf-8", "replace")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


class Varnish:
    """varnishd in the foreground (-F) with our VCL over `backends` (host:port)."""

    def __init__(
        self, backends: list[str], *, purgers: tuple[str, ...] = (), port: int | None = None
    ) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="blogsite-varnish-"))
        self.dir.chmod(0o755)  # the worker process runs as Varnish's own user
        shutil.copy(VCL, self.dir / "default.vcl")
        args = [sys.executable, str(SITE_VCL)]
        for b in backends:
            args += ["--backend", b]
        for p in purgers:
            args += ["--purger", p]
        site = subprocess.run(args, check=True, capture_output=True, text=True).stdout
        (self.dir / "site.vcl").write_text(site)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.dir / "varnishd.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [VARNISHD, "-F", "-n", str(self.dir / "n"), "-a", f"127.0.0.1:{self.port}",
                 "-T", "127.0.0.1:0", "-f", str(self.dir / "default.vcl"),
                 "-p", f"vcl_path={self.dir}", "-s", "malloc,32m"],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            wait_for_port(self.port, self.proc, self.log)
        except RuntimeError:
            self.close()
            raise

    def get(self, path: str, **kwargs) -> tuple[int, dict[str, str], str]:
        return request(self.port, path, **kwargs)

    def close(self) -> None:
        stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


def database_url() -> str:
    """The test database, for an app server in another process."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


class AppServer:
    """gunicorn serving blogsite.wsgi on the test database, as `make run` does."""

    def __init__(self, *, cache_dir: Path, workers: int = 2, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="blogsite-app-"))
        self.log = self.dir / "gunicorn.log"
        self.access_log = self.dir / "access.log"
        full_env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "FILE_CACHE_DIR": str(cache_dir),  # the tests' own file cache when no Redis
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_ACCESSLOG": str(self.access_log),
            "DEBUG": "false",
            "SECRET_KEY": "edge-tests-not-secret-0123456789abcdefghijklmnopqrstuvwxyz",
            "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
            **env,
        }
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [GUNICORN, "blogsite.wsgi", "-c", "gunicorn.conf.py"],
                cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            wait_for_port(self.port, self.proc, self.log, seconds=60)
        except RuntimeError:
            self.close()
            raise

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def get(self, path: str, **kwargs) -> tuple[int, dict[str, str], str]:
        return request(self.port, path, **kwargs)

    def close(self) -> None:
        stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


def editor_for_other_processes(username: str = "editor"):
    """A superuser whose password a gunicorn of its own can check: the suite hashes
    with MD5 for speed, which the servers' default settings do not accept."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from accounts.tests.factories import UserFactory

    user = UserFactory(username=username, is_staff=True, is_superuser=True)
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    return user


class AdminSession:
    """A logged-in browser session on one app server (cookies, CSRF token)."""

    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.post("/admin/login/?next=/admin/", {"username": username, "password": PASSWORD})
        assert any(c.name == "sessionid" for c in self.jar), "admin login failed"

    def csrf(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as response:
            page = response.read().decode()
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    def post(self, path: str, data: dict) -> tuple[int, str]:
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.csrf(path)}).encode()
        with self.opener.open(self.base + path, data=body, timeout=30) as response:
            return response.status, response.url
