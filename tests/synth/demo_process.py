"""Running `pingan demo` and scripts against its database in separate processes: the demo
has its own data directory, settings and keys, apart from the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pingan.synth.demo import DEMO_PASSWORD

PINGAN = str(Path(sys.executable).parent / "pingan")
DEMO_CLIENTS = 40


def env_for(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGAN_")}
    env.update(
        PINGAN_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="pingan.settings.demo",
        PW=DEMO_PASSWORD,
    )
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)


def build(data_dir: Path) -> subprocess.CompletedProcess:
    return run(
        [PINGAN, "demo", "--no-serve", "--clients", str(DEMO_CLIENTS), "--no-progress"],
        env_for(data_dir),
    )


def script(code: str, data_dir: Path) -> dict:
    """Run `code` against the demo's database; it prints one JSON line, returned here."""
    done = run([sys.executable, "-c", code], env_for(data_dir))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
