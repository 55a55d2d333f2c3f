"""Demo settings: `pingan demo` and `./scripts/demo.sh`, on one machine, out of the box.

Unlike production these make what they lack, in the data directory (./pingan-data unless
PINGAN_DATA_DIR says otherwise): the directory itself (mode 0700), a secret key file and,
on first use, a field key file (both 0600). That is convenient for trying Ping An and wrong
for a centre: those keys sit beside the database and go into any copy of the folder.
"""

import os
import secrets

from .base import *  # noqa: F403
from .base import DATA_DIR

DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)


def _secret_key_file(path) -> str:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = os.environ.get("PINGAN_SECRET_KEY") or _secret_key_file(DATA_DIR / "secret_key")
CREATE_MISSING_KEYS = True
