"""Reading an export back, for the tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson

# The demo region's frozen day, a Wednesday in the middle of a month: last month is
# complete, and the history covers the year before it.
TODAY = datetime(2026, 6, 17, 10, 30)
DEMO_CLIENTS = 30


def read_ndjson(folder: Path) -> dict[str, list[dict]]:
    out = {}
    for path in sorted(folder.glob("*.ndjson")):
        out[path.stem] = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    return out
