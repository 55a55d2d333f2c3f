"""Changes to the region's centres and to who works in them, each audited."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from pingan.accounts.roles import role_of
from pingan.audit.keys import signing_key
from pingan.audit.log import record
from pingan.core.domain import Refusal, acting, current_actor, require
from pingan.core.models import Centre

from . import signed
from .current import centres_of
from .models import CentreKeyGeneration, Membership, OfficerPost, PoliceStation

# A centre code is printed on slips and client codes: short, capitals, digits and hyphens.
CENTRE_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{0,19}")


def switch_centre(user, code: str) -> Centre:
    """The centre `user` now works in. Refused, with nothing changed, unless they belong
    to it; the caller keeps the choice (the session)."""
    centre = next((c for c in centres_of(user) if c.code == code), None)
    if centre is None:
        raise Refusal(_("You are not a member of that centre."), code="not_member")
    with acting(user), transaction.atomic():
        record("centre_switch", target=centre.code, centre=centre.code)
    return centre


def add_centre(code: str, name: str, by=None) -> Centre:
    """A new centre of the region (its settings start at their defaults)."""
    require(by, "manage_staff")
    code, name = (code or "").strip(), (name or "").strip()
    if not CENTRE_CODE.fullmatch(code):
        raise Refusal(
            _("A centre code is 1 to 20 capital letters, digits or hyphens, like C01."),
            code="bad_code",
        )
    if not name:
        raise Refusal(_("A centre needs a name."), code="no_name")
    if Centre.objects.filter(code=code).exists():
        raise Refusal(
            _("There is already a centre with code %(code)s.") % {"code": code}, code="duplicate"
        )
    with acting(by), transaction.atomic():
        centre = Centre.objects.create(code=code, name=name[:200])
        record("centre_added", target=code, name=centre.name)
    return centre


def add_membership(username: str, centre_code: str, by=None) -> Membership:
    """Let a staff member work in a centre."""
    require(by, "manage_staff")
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise Refusal(_("No staff member is called %(name)s.") % {"name": username}, code="no_user")
    centre = Centre.objects.filter(code=centre_code).first()
    if centre is None:
        raise Refusal(_("No centre has code %(code)s.") % {"code": centre_code}, code="no_centre")
    if Membership.objects.filter(user=user, centre=centre).exists():
        raise Refusal(
            _("%(name)s is already a member of %(code)s.")
            % {"name": username, "code": centre_code},
            code="duplicate",
        )
    with acting(by), transaction.atomic():
        membership = Membership.objects.create(user=user, centre=centre)
        record("membership_added", target=username, centre=centre.code)
    return membership


def add_station(code: str, name: str, by=None) -> PoliceStation:
    """A new station of the region's police bureau."""
    require(by, "manage_staff")
    code, name = (code or "").strip(), (name or "").strip()
    if not CENTRE_CODE.fullmatch(code):
        raise Refusal(
            _("A station code is 1 to 20 capital letters, digits or hyphens, like PS01."),
            code="bad_code",
        )
    if not name:
        raise Refusal(_("A station needs a name."), code="no_name")
    if PoliceStation.objects.filter(code=code).exists():
        raise Refusal(
            _("There is already a station with code %(code)s.") % {"code": code},
            code="duplicate",
        )
    with acting(by), transaction.atomic():
        station = PoliceStation.objects.create(code=code, name=name[:120])
        record("station_added", target=code, name=station.name)
    return station


def assign_post(username: str, station_code: str | None, by=None) -> OfficerPost:
    """Post a police officer to a station (`station_code`) or to the bureau (None). The
    post replaces the previous one; only police accounts have one."""
    require(by, "manage_staff")
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise Refusal(_("No staff member is called %(name)s.") % {"name": username}, code="no_user")
    if role_of(user) != "police":
        raise Refusal(
            _("%(name)s is not a police officer: only officers have a post.") % {"name": username},
            code="not_police",
        )
    station = None
    if station_code:
        station = PoliceStation.objects.filter(code=station_code).first()
        if station is None:
            raise Refusal(
                _("No station has code %(code)s.") % {"code": station_code}, code="no_station"
            )
    with acting(by), transaction.atomic():
        post, _created = OfficerPost.objects.update_or_create(
            user=user, defaults={"station": station}
        )
        record("officer_posted", target=username, station=station.code if station else "")
    return post


def rotate_centre_key(centre: Centre | str, by=None) -> CentreKeyGeneration:
    """Give one centre a new signing key (its next generation), leaving every other centre's
    key and the installation's key as they are. The centre's old key stays in its published
    list for `signed.ROTATION_GRACE` (docs/region.md, "Rotating a centre's key")."""
    require(by, "manage_staff")
    if not isinstance(centre, Centre):
        code = (centre or "").strip()
        centre = Centre.objects.filter(code=code).first()
        if centre is None:
            raise Refusal(_("No centre has code %(code)s.") % {"code": code}, code="no_centre")
    installation = signing_key()
    try:
        with acting(by), transaction.atomic():
            # A second rotation waits here (the centre's row on PostgreSQL, the write lock
            # on SQLite) and makes the next generation; the unique constraint stands behind.
            Centre.objects.select_for_update().only("pk").get(pk=centre.pk)
            old = signed.current_generation(centre.code)
            made = CentreKeyGeneration.objects.create(
                centre=centre,
                generation=old + 1,
                created_by=current_actor().username[:150],
            )
            old_id = signed.key_id(
                signed.derive_centre_key(installation, centre.code, old).public_key()
            )
            new_id = signed.key_id(
                signed.derive_centre_key(installation, centre.code, made.generation).public_key()
            )
            record(
                "centre_key_rotated",
                target=centre.code,
                centre=centre,
                generation=made.generation,
                old_key_id=old_id,
                new_key_id=new_id,
            )
    except IntegrityError:
        raise Refusal(
            _("Another rotation of this centre's key finished first; run it again."),
            code="concurrent",
        ) from None
    return made
