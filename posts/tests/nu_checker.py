"""The W3C Nu HTML checker (npm `vnu-jar`), run once over many files.

One JVM start costs a few seconds, so callers collect every page first and
check them in one go. Needs Java 17 and node_modules (scripts/ensure-browser.sh).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings

VNU_JAR = Path(settings.BASE_DIR) / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def missing_tools() -> str | None:
    """Why the checker cannot run here, or None."""
    if shutil.which("java") is None:
        return "no java on PATH: run scripts/ensure-browser.sh (installs a JRE)"
    if not VNU_JAR.exists():
        return f"{VNU_JAR} missing: run scripts/ensure-browser.sh (npm ci)"
    return None


def check(files: dict[str, Path]) -> list[str]:
    """Every error the checker reports, as "page: line N: message «extract»".

    `files` maps a page's name (for the report) to its HTML file. A warning is
    not an error; a file the checker could not read is."""
    by_path = {str(path.resolve()): name for name, path in files.items()}
    result = subprocess.run(
        ["java", "-Xss4m", "-jar", str(VNU_JAR), "--format", "json", "--stdout",
         "--exit-zero-always", *by_path],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, f"vnu did not run: {result.stderr or result.stdout}"
    report = json.loads(result.stdout)
    errors = []
    for message in report["messages"]:
        if message["type"] == "info":
            continue  # "info" carries the warnings too (subType "warning")
        path = unquote(urlparse(message.get("url", "")).path)
        page = by_path.get(str(Path(path).resolve()) if path else "", path or "?")
        extract = " ".join(message.get("extract", "").split())
        errors.append(
            f"{page}: line {message.get('lastLine', '?')}: {message['message']} «{extract}»"
        )
    return errors
