"""Where a police officer serves (`OfficerPost`): read by the referral screens."""

from __future__ import annotations

from .models import OfficerPost, PoliceStation


def post_of(user) -> OfficerPost | None:
    """The officer's post, or None for an officer without one (and any other account)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return OfficerPost.objects.select_related("station").filter(user=user).first()


def station_of(user) -> PoliceStation | None:
    """The officer's station; None at the bureau or without a post."""
    post = post_of(user)
    return post.station if post else None


def at_bureau(user) -> bool:
    """An officer posted to the bureau sees the referrals of every station."""
    post = post_of(user)
    return post is not None and post.at_bureau
