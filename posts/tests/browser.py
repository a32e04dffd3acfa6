"""Debian's Chromium as the browser tests and scripts/screenshots.py launch it.

Nothing can be downloaded at test time, so no Playwright browser build: the
system package, headless, as root, with its network chatter turned off.
"""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # runs as root in a container
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
