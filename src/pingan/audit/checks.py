"""`pingan check --deploy` reports an audit key or checkpoint signing key that is missing or
malformed, before the first write fails for want of it."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, register

from . import keys


def _problem(env: str, filename: str) -> str:
    """What is wrong with one key, or "" (a key file the demo makes on first use is fine)."""
    text = os.environ.get(env, "").strip()
    where = env
    if not text:
        if not keys.key_files_allowed():
            return f"{env} is not set"
        path = Path(settings.DATA_DIR) / filename
        if not path.exists():
            return ""
        try:
            text, where = path.read_text().strip(), str(path)
        except (OSError, UnicodeDecodeError) as error:
            return f"cannot read {path}: {error}"
    try:
        for part in [p for p in text.split(",") if p.strip()] or [""]:
            keys.decode(part, where)
    except keys.AuditKeyError as error:
        return str(error)
    if env == keys.SIGNING_KEY_ENV and "," in text:
        return f"{where} must hold exactly one signing key"
    return ""


@register(Tags.security, deploy=True)
def audit_keys_configured(app_configs, **kwargs) -> list[Error]:
    found = []
    for env, filename, check_id, what in (
        (keys.AUDIT_KEY_ENV, keys.AUDIT_KEY_FILE, "pingan.audit.E001", "audit key"),
        (keys.SIGNING_KEY_ENV, keys.SIGNING_KEY_FILE, "pingan.audit.E002", "checkpoint key"),
    ):
        problem = _problem(env, filename)
        if problem:
            found.append(
                Error(
                    f"The {what} is missing or malformed: {problem}.",
                    hint="Set it in the environment; `pingan audit keys` prints fresh keys"
                    " (docs/audit.md).",
                    id=check_id,
                )
            )
    return found
