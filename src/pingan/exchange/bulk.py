"""A bulk export: what may be asked for, and writing it as FHIR Bulk Data NDJSON.

`ask` turns what a person typed (types, a first day, a centre, an audience) into an
`ExportRequest`, or refuses with the reason. `write` streams every asked-for type into
one `<Type>.ndjson` file each, plus `manifest.json`, in a hidden folder beside the target
that becomes the target only once everything is written: an export that fails or is
cancelled half way leaves nothing that looks finished.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import orjson
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from pingan.core import clock
from pingan.core.domain import Refusal
from pingan.core.models import Centre
from pingan.region.current import centres_of, works_in_centres

from .fhir import AGGREGATE_TYPES, BY_TYPE, TYPES, Scope
from .fhir.scope import AUDIENCES

MANIFEST = "manifest.json"
# How often (in resources) the progress callback runs and a cancellation is noticed.
PROGRESS_EVERY = 2000


@dataclass(frozen=True)
class ExportRequest:
    types: tuple[str, ...]
    centres: tuple[str, ...]
    since: date | None = None
    audience: str = "cdc"


def parse_types(text: str | None, audience: str = "cdc") -> tuple[str, ...]:
    """Comma-separated resource types (Bulk Data `_type`); none means every type the
    audience may have. Refuses an unknown type, naming it and the known ones."""
    allowed = TYPES if audience == "cdc" else AGGREGATE_TYPES
    names = [t.strip() for t in (text or "").split(",") if t.strip()]
    if not names:
        return allowed
    unknown = [t for t in names if t not in BY_TYPE]
    if unknown:
        raise Refusal(
            _("Unknown resource type: %(types)s. Known types: %(known)s.")
            % {"types": ", ".join(unknown), "known": ", ".join(TYPES)},
            code="unknown_type",
        )
    refused = [t for t in names if t not in allowed]
    if refused:
        raise Refusal(
            _("Not exported for this audience: %(types)s (only %(allowed)s).")
            % {"types": ", ".join(refused), "allowed": ", ".join(allowed)},
            code="type_not_for_audience",
        )
    return tuple(t for t in TYPES if t in names)  # the export's own order


def parse_since(text: str | None) -> date | None:
    """The first day included: a date (YYYY-MM-DD) or an instant (its day in the centre's
    time zone). Refuses anything else, and a day after today."""
    value = (text or "").strip()
    if not value:
        return None
    try:
        day = parse_date(value)
        if day is None:
            instant = parse_datetime(value)
            if instant is not None:
                if timezone.is_naive(instant):
                    instant = timezone.make_aware(instant)
                day = timezone.localdate(instant)
    except ValueError:
        day = None
    if day is None:
        raise Refusal(
            _("'%(value)s' is not a date: give the first day as YYYY-MM-DD.")
            % {"value": value[:40]},
            code="since_malformed",
        )
    if day > clock.today():
        raise Refusal(
            _("The first day %(day)s is in the future: nothing has been recorded yet.")
            % {"day": day.isoformat()},
            code="since_future",
        )
    return day


def centres_for(user) -> list[Centre]:
    """The centres whose records `user` may export: every centre of the region for a
    command run on the server and for the regional officers (CDC, police); a member of
    centre staff, their own centres."""
    every = list(Centre.objects.order_by("code")) or [Centre.current()]
    if not works_in_centres(user):
        return every
    return centres_of(user) or ([every[0]] if len(every) == 1 else [])


def parse_centre(code: str | None, user=None) -> list[Centre]:
    """The centres asked for: the one named, if `user` may export it, or without a code
    every centre they may export (the region's export). An unknown code and a centre the
    user may not see get the same answer."""
    visible = centres_for(user)
    value = (code or "").strip()
    if not value and visible:
        return visible
    for centre in visible:
        if centre.code == value:
            return [centre]
    raise Refusal(
        _("No centre with the code '%(code)s' that you may export.") % {"code": value[:40]},
        code="unknown_centre",
    )


def ask(
    types: str | None = None,
    since: str | None = None,
    centre: str | None = None,
    audience: str = "cdc",
    user=None,
) -> ExportRequest:
    """An ExportRequest from what was typed, or a Refusal with every reason at once."""
    if audience not in AUDIENCES:
        raise Refusal(
            _("Unknown audience '%(value)s': cdc or police.") % {"value": str(audience)[:20]},
            code="audience",
        )
    reasons, found = [], {}
    for key, parse in (
        ("types", lambda: parse_types(types, audience)),
        ("since", lambda: parse_since(since)),
        ("centre", lambda: parse_centre(centre, user)),
    ):
        try:
            found[key] = parse()
        except Refusal as refusal:
            reasons.append(refusal)
    if reasons:
        if len(reasons) == 1:
            raise reasons[0]
        raise Refusal([r.message for r in reasons], code=reasons[0].code)
    return ExportRequest(
        found["types"], tuple(c.code for c in found["centre"]), found["since"], audience
    )


@dataclass
class Written:
    """What an export wrote: resources per type (types with none have no file)."""

    transaction_time: datetime
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class Cancelled(Exception):
    """The export was cancelled while it ran; nothing was left behind."""


# Types whose resources do not belong to one centre (the partner organisations, the
# measures, staff who work in several centres): written once however many centres.
SHARED_TYPES = frozenset({"Organization", "Measure", "Practitioner"})


def expected(request: ExportRequest, scopes: list[Scope]) -> int:
    """The resources the export will write, for its progress bar (a resource shared by
    several centres is counted with each)."""
    return sum(BY_TYPE[t].count(scope) for scope in scopes for t in request.types)


def scopes_of(request: ExportRequest, now: datetime | None = None) -> list[Scope]:
    """One scope per exported centre, all at the same instant and over the same rows (the
    tables' highest ids read once, when the first scope needs them)."""
    centres = {c.code: c for c in Centre.objects.filter(code__in=request.centres)}
    scopes = []
    for code in request.centres:
        scope = Scope(centre=centres[code], since=request.since, audience=request.audience, now=now)
        now = scope.now
        if scopes:
            scope.share_rows_with(scopes[0])
        scopes.append(scope)
    return scopes


def _validator():
    from fhir.resources.R4B import get_fhir_model_class

    models: dict[str, type] = {}

    def validate(resource: dict) -> None:
        name = resource["resourceType"]
        model = models.get(name) or models.setdefault(name, get_fhir_model_class(name))
        model.model_validate_json(orjson.dumps(resource))

    return validate


def manifest(written: Written, url: Callable[[str], str], request_url: str = "") -> dict:
    """The Bulk Data manifest: one output entry per file, `url` making each file's address."""
    return {
        "transactionTime": timezone.localtime(written.transaction_time).isoformat(),
        "request": request_url,
        "requiresAccessToken": True,
        "output": [
            {"type": name, "url": url(f"{name}.ndjson"), "count": count}
            for name, count in written.counts.items()
        ],
        "error": [],
    }


def write(
    request: ExportRequest,
    folder: Path,
    *,
    progress: Callable[[int], None] | None = None,
    validate: bool = False,
    request_url: str = "",
    now: datetime | None = None,
) -> Written:
    """Write the export into `folder` (which must not exist, or be empty). `progress` is
    called with the number of resources written since its last call, every
    `PROGRESS_EVERY` resources and at the end; it may raise `Cancelled` to stop."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise Refusal(
            _("%(path)s already exists and is not an empty folder: choose a new one.")
            % {"path": folder},
            code="out_exists",
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = folder.parent / f".{folder.name}.partial-{secrets.token_hex(4)}"
    partial.mkdir()
    scopes = scopes_of(request, now)
    written = Written(transaction_time=scopes[0].now)
    check = _validator() if validate else None
    try:
        # The resources' own words (labels, measure titles) are in English whoever asks.
        with translation.override("en"):
            for name in request.types:
                count = _write_type(partial, name, scopes, progress, check)
                if count:
                    written.counts[name] = count
        (partial / MANIFEST).write_bytes(
            orjson.dumps(manifest(written, lambda f: f, request_url), option=orjson.OPT_INDENT_2)
        )
        if folder.exists():
            folder.rmdir()
        os.replace(partial, folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return written


def _rows(name: str, scopes: list[Scope]):
    """The type's resources of every scope; a shared type's resource once."""
    seen: set[str] | None = set() if name in SHARED_TYPES and len(scopes) > 1 else None
    for scope in scopes:
        for resource in BY_TYPE[name].rows(scope):
            if seen is not None:
                if resource["id"] in seen:
                    continue
                seen.add(resource["id"])
            yield resource


def _write_type(partial: Path, name: str, scopes: list[Scope], progress, check) -> int:
    path = partial / f"{name}.ndjson"
    count = pending = 0
    dumps = orjson.dumps
    with path.open("wb", buffering=1 << 20) as out:
        for resource in _rows(name, scopes):
            if check is not None:
                check(resource)
            out.write(dumps(resource))
            out.write(b"\n")
            count += 1
            pending += 1
            if pending == PROGRESS_EVERY and progress is not None:
                progress(pending)
                pending = 0
    if progress is not None and pending:
        progress(pending)
    if not count:
        path.unlink()
    return count
