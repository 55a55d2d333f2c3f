"""Production settings: HTTPS-only cookies, and no start without what a centre needs.

Everything comes from the environment (docs/deployment.md). Nothing is created: not the
data directory, not a secret key, not a field key. Without PINGAN_SECRET_KEY, without
valid PINGAN_FIELD_KEYS, or with a data directory that does not exist, importing these
settings raises ImproperlyConfigured listing every problem, so `pingan` and the WSGI
server stop before touching any data. `pingan check` goes further (keys against the
stored values, the database, file modes).
"""

import os

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATA_DIR, FIELD_KEYS_ENV

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Keys come from PINGAN_FIELD_KEYS only: a key file would sit in the data directory, which
# is copied and backed up with the database.
FIELD_KEY_FILE = None
CREATE_MISSING_KEYS = False
STRICT_FILE_MODES = True


def _problems() -> list[str]:
    found = []
    if not os.environ.get("PINGAN_SECRET_KEY", "").strip():
        found.append(
            "PINGAN_SECRET_KEY is not set (50 random characters: "
            'python3 -c "import secrets; print(secrets.token_urlsafe(50))").'
        )
    raw = os.environ.get(FIELD_KEYS_ENV, "").strip()
    if not raw:
        found.append(
            f"{FIELD_KEYS_ENV} is not set: the field encryption keys, newest first "
            "(make one with `pingan keys generate`; docs/key-rotation.md)."
        )
    else:
        # The same test as pingan.core.crypto.parse_keys, which settings cannot import.
        keys = [k.strip() for k in raw.split(",") if k.strip()]
        for number, key in enumerate(keys, start=1):
            try:
                Fernet(key.encode("ascii"))
            except ValueError:
                found.append(
                    f"Key {number} of {len(keys)} in {FIELD_KEYS_ENV} is not a field key "
                    "(32 bytes in URL-safe base64, as `pingan keys generate` prints)."
                )
    if not DATA_DIR.is_dir():
        found.append(
            f"The data directory {DATA_DIR} does not exist (PINGAN_DATA_DIR). Create it, "
            "owned by the service's user with mode 0700; Ping An will not create it."
        )
    return found


_found = _problems()
if _found:
    raise ImproperlyConfigured(
        "Ping An will not start with production settings:\n"
        + "\n".join(f"  - {problem}" for problem in _found)
    )
