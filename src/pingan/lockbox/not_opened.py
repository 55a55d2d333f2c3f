"""The box that stayed shut: a box with a modem that reports no "opened" event on a day one
of its take-home bottles covers raises a `not_opened` alert for staff (docs/lockbox-protocol.md).

A closed box on a bottle day means the dose was not taken that day, or was taken out some
other way. Only a box with a modem can say so: a box without one reports nothing, so its
silence means nothing. A box has a modem when it has uploaded at least once (`last_seq`
is past its starting value); a box issued today and never heard from is not judged.

The check runs once a day for the day before (`pingan box not-opened`, from a daily timer;
docs/lockbox-protocol.md), after the day is over in the centre's time zone. Running it again for
the same day raises nothing new: the database holds one alert per box, kind and day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from pingan.audit.log import record
from pingan.core import clock
from pingan.core.domain import Refusal, acting, require

from .models import AlertKind, Box, BoxAlert, BoxEvent, EventType

# `Box.last_seq` before the first accepted upload.
NEVER_UPLOADED = -1


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    """The day's first instant and the next day's, in the centre's time zone."""
    zone = clock.localtime().tzinfo
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def boxes_not_opened(day: date) -> list[Box]:
    """Boxes in use with a modem and a bottle for `day` but no "opened" event on it."""
    start, end = _day_bounds(day)
    opened = BoxEvent.objects.filter(type=EventType.OPENED, at__gte=start, at__lt=end)
    # Take-home bottles live in `takehome`, a layer above this app: the box finds its
    # bottle days through the reverse relation, without importing that app.
    return list(
        Box.objects.filter(last_seq__gt=NEVER_UPLOADED, retired_on__isnull=True, bottles__day=day)
        .exclude(pk__in=opened.values("box_id"))
        .distinct()
        .select_related("client")
        .order_by("label")
    )


def check_not_opened(day: date, by=None) -> list[BoxAlert]:
    """Raise one `not_opened` alert per box that stayed shut on `day`; the alerts raised
    now (none for a box already alerted for that day). The day must be over."""
    require(by, "manage_boxes")
    if day >= clock.today():
        raise Refusal(
            _("The day %(date)s is not over yet: check a day that has ended.")
            % {"date": day.isoformat()},
            code="day_not_over",
        )
    raised = []
    with acting(by), transaction.atomic():
        already = set(
            BoxAlert.objects.filter(kind=AlertKind.NOT_OPENED, day=day).values_list(
                "box_id", flat=True
            )
        )
        now = clock.now()
        for box in boxes_not_opened(day):
            if box.pk in already:
                continue
            raised.append(
                BoxAlert.objects.create(
                    box=box, kind=AlertKind.NOT_OPENED, day=day, at=now, created_by=by
                )
            )
        record("box_not_opened_check", day=day, boxes=sorted(a.box.label for a in raised))
    return raised
