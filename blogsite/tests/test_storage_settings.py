"""Uploads go to MEDIA_ROOT by default and to an S3-compatible bucket when one is named."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.core.files.storage import storages
default_storage = storages["default"]
print(json.dumps({
    "backend": settings.STORAGES["default"]["BACKEND"],
    "storage": type(default_storage).__name__,
    "serve_media": settings.SERVE_MEDIA,
    "url": default_storage.url("covers/2026/a.png"),
    "endpoint": getattr(default_storage, "endpoint_url", None),
    "bucket": getattr(default_storage, "bucket_name", None),
}))
"""
S3_VARS = ("AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL", "AWS_S3_CUSTOM_DOMAIN")


def probe(**env_overrides) -> dict:
    # Nothing here talks to S3: building the storage and a public URL is local.
    env = {k: v for k, v in os.environ.items() if k not in S3_VARS}
    env.update({"DJANGO_SETTINGS_MODULE": "blogsite.settings", "DEBUG": "true", **env_overrides})
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_uploads_use_the_file_system_by_default():
    found = probe()
    assert found["backend"] == "django.core.files.storage.FileSystemStorage"
    assert (found["storage"], found["serve_media"]) == ("FileSystemStorage", True)
    assert found["url"] == "/media/covers/2026/a.png"


def test_a_bucket_in_the_environment_switches_uploads_to_s3():
    found = probe(
        AWS_STORAGE_BUCKET_NAME="blog-media",
        AWS_S3_ENDPOINT_URL="http://127.0.0.1:9000",
        AWS_S3_CUSTOM_DOMAIN="media.example.com",
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
    )
    assert found["backend"] == "storages.backends.s3.S3Storage"
    assert (found["storage"], found["bucket"]) == ("S3Storage", "blog-media")
    assert found["endpoint"] == "http://127.0.0.1:9000"
    assert found["serve_media"] is False
    # Plain, unsigned URLs on the CDN host: cached pages must not hold expiring links.
    assert found["url"] == "https://media.example.com/covers/2026/a.png"
