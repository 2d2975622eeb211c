"""Headless Chromium as both the console tests (through selenium) and the WordPress
screenshots (``chromium --screenshot``) start it: offline, no first-run or background work."""

from __future__ import annotations

import shutil

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def find_chromium() -> str | None:
    """Debian's ``chromium`` (or ``chromium-browser`` elsewhere), None when neither is on PATH."""
    return shutil.which("chromium") or shutil.which("chromium-browser")
