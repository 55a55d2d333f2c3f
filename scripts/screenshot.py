"""Take the README's screenshot of the dosing queue from a fresh demo centre.

    .venv/bin/python scripts/screenshot.py [--out docs/screenshot-queue.png] [--language zh-hans]

Builds the demo data in a temporary folder (nothing of yours is touched), serves it on a
free loopback port, signs in as the demo's first nurse through the login form and saves a
PNG of the queue, using Debian's Chromium as the browser journeys do.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # the server answers, even if not with 200
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def demo_nurse(env: dict[str, str]) -> tuple[str, str]:
    """The demo's first nurse, with a fresh password known only to this script."""
    password = secrets.token_urlsafe(12)
    code = (
        "from django.contrib.auth.models import User\n"
        "u = User.objects.filter(groups__name='nurse', is_active=True).order_by('username')[0]\n"
        f"u.set_password({password!r}); u.save(update_fields=['password'])\n"
        "print(u.username)\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "pingan", "shell", "-c", code],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1], password


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot-queue.png")
    parser.add_argument("--language", default="zh-hans", choices=["zh-hans", "en"])
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="pingan-shot-") as data_dir:
        env = {k: v for k, v in os.environ.items() if k != "PINGAN_DATABASE_URL"}
        env.update(PINGAN_DATA_DIR=data_dir, DJANGO_SETTINGS_MODULE="pingan.settings.demo")
        built = subprocess.run(
            [sys.executable, "-m", "pingan", "demo", "--no-serve"],
            env=env,
            capture_output=True,
            text=True,
        )
        if built.returncode != 0:
            sys.exit(f"pingan demo failed:\n{built.stdout}\n{built.stderr}")
        username, password = demo_nurse(env)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "pingan", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(f"{base}/accounts/login/")
            with sync_playwright() as driver:
                browser = driver.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
                page = browser.new_page(
                    viewport={"width": 1280, "height": 800},
                    locale="zh-CN" if args.language == "zh-hans" else "en-GB",
                )
                page.goto(f"{base}/accounts/login/")
                page.fill("input[name=username]", username)
                page.fill("input[name=password]", password)
                with page.expect_navigation():
                    page.click("#login-submit")
                page.goto(f"{base}/dosing/queue/")
                page.wait_for_load_state("networkidle")
                args.out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.out))
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
