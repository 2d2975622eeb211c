"""What every command module shares: output helpers and default paths."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = Path("../shared/data")


def print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def fail(message: str, code: int = 2) -> int:
    print(f"commentmod: {message}", file=sys.stderr)
    return code
