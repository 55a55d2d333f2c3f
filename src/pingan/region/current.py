"""The centre a staff member is working in for this request.

Every list of clinical records is scoped by it. The choice lives in the session (set by
the header's switch, `region.views.switch`); it must be one of the user's memberships, and
defaults to the first. A user with no membership works in the installation's centre when
there is exactly one (every single-centre installation, the demo, the tests); with several
centres and no membership there is no current centre, and scoped lists are empty.
"""

from __future__ import annotations

from django.http import HttpRequest

from pingan.core.domain import role_of
from pingan.core.models import Centre

SESSION_KEY = "pingan_centre"
_CACHE = "_pingan_centre"


def centres_of(user) -> list[Centre]:
    """The centres a user belongs to, in the order they joined."""
    if user is None or not user.is_authenticated:
        return []
    return list(Centre.objects.filter(memberships__user=user).order_by("memberships__pk"))


def sole_centre() -> Centre | None:
    """The installation's centre when it has exactly one (created on first use, as
    `Centre.current()` does); None in a region of several."""
    first_two = list(Centre.objects.order_by("pk")[:2])
    if not first_two:
        return Centre.current()
    return first_two[0] if len(first_two) == 1 else None


def choose(user, wanted_pk: int | None) -> Centre | None:
    """The centre `user` works in when the session asks for `wanted_pk`."""
    mine = centres_of(user)
    if not mine:
        return sole_centre()
    for centre in mine:
        if centre.pk == wanted_pk:
            return centre
    return mine[0]


def current_centre(request: HttpRequest) -> Centre | None:
    """The request's current centre (looked up once per request)."""
    if not hasattr(request, _CACHE):
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        wanted = session.get(SESSION_KEY) if session is not None else None
        setattr(request, _CACHE, choose(user, wanted))
    return getattr(request, _CACHE)


def remember(request: HttpRequest, centre: Centre) -> None:
    """Make `centre` the request's and the session's current centre."""
    request.session[SESSION_KEY] = centre.pk
    setattr(request, _CACHE, centre)


# No row has id 0: a list scoped by it is empty (a user of a region with no centre of theirs).
NO_CENTRE = 0


def centre_id(request: HttpRequest) -> int:
    """The id lists of this request are scoped by: the current centre's, or `NO_CENTRE`."""
    centre = current_centre(request)
    return centre.pk if centre is not None else NO_CENTRE


# The roles that work in one centre at a time; the regional roles (the CDC and police
# officers) read across the region's centres as far as their permissions reach.
CENTRE_ROLES = frozenset({"nurse", "clinician", "manager"})


def works_in_centres(user) -> bool:
    """Whether `user` is centre staff (scoped to their current centre) rather than a
    regional officer or a command run on the server (`user` None)."""
    return user is not None and role_of(user) in CENTRE_ROLES


def in_centre(request: HttpRequest, queryset, via: str = "client__centre"):
    """`queryset` narrowed to the records of the request's current centre (`via` is the
    path from the model to its centre) when the user works in centres; a record of another
    centre is then not found (404), exactly like an unknown id."""
    if not works_in_centres(getattr(request, "user", None)):
        return queryset
    return queryset.filter(**{f"{via}_id": centre_id(request)})
