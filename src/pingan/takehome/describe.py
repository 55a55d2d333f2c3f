"""The take-home standard in words, for the people who sign it.

The CDC officer and the police officer sign thresholds, not JSON: each version is shown as
sentences and a table in the reader's language. Pure functions over the stored document
(standard.py defines its shape); tolerant of a half-edited draft, so the draft form can
preview whatever parses as JSON and leave the refusals to `standard.parse`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

# The texts the shipped US profiles ask the clinician to confirm. They are data in the
# document (so a signed version keeps its exact wording); known ones are shown translated.
CONFIRM_TEXTS = {
    "no active substance use or other condition that makes take-home unsafe": gettext_lazy(
        "no active substance use or other condition that makes take-home unsafe"
    ),
    "regular attendance for observed doses and counselling": gettext_lazy(
        "regular attendance for observed doses and counselling"
    ),
    "no serious behavioural problems at the centre": gettext_lazy(
        "no serious behavioural problems at the centre"
    ),
    "no recent diversion": gettext_lazy("no recent diversion"),
    "take-home doses can be stored safely": gettext_lazy("take-home doses can be stored safely"),
    "the benefit of take-home outweighs the risk of diversion": gettext_lazy(
        "the benefit of take-home outweighs the risk of diversion"
    ),
    "absence of recent abuse of drugs (opioid or non-narcotic), including alcohol": gettext_lazy(
        "absence of recent abuse of drugs (opioid or non-narcotic), including alcohol"
    ),
    "regularity of clinic attendance": gettext_lazy("regularity of clinic attendance"),
    "absence of serious behavioural problems at the clinic": gettext_lazy(
        "absence of serious behavioural problems at the clinic"
    ),
    "absence of known recent criminal activity, e.g. drug dealing": gettext_lazy(
        "absence of known recent criminal activity, e.g. drug dealing"
    ),
    "stability of the home environment and social relationships": gettext_lazy(
        "stability of the home environment and social relationships"
    ),
    "length of time in comprehensive maintenance treatment": gettext_lazy(
        "length of time in comprehensive maintenance treatment"
    ),
    "assurance that take-home medication can be safely stored within the home": gettext_lazy(
        "assurance that take-home medication can be safely stored within the home"
    ),
    "the rehabilitative benefit outweighs the potential risk of diversion": gettext_lazy(
        "the rehabilitative benefit outweighs the potential risk of diversion"
    ),
}

WEEKDAYS = (
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
)

NOT_CHECKED = "—"


@dataclass(frozen=True)
class Part:
    """One block of the readable standard: a heading with a table or lines (under a table,
    the lines say how to read it)."""

    title: str
    lines: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def _number(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _shown(value) -> str:
    """A value that is not a whole number (a bad draft) is shown as typed, never hidden."""
    return str(value)


def _tier_row(tier: dict) -> tuple[str, ...]:
    days, start = tier.get("days"), tier.get("from_day")
    if _number(days) is not None and _number(start) is not None:
        if start == 0:
            allowance = ngettext(
                "%(days)d day from the start of treatment",
                "%(days)d days from the start of treatment",
                days,
            ) % {"days": days}
        else:
            allowance = ngettext(
                "%(days)d day from day %(from)d", "%(days)d days from day %(from)d", days
            ) % {"days": days, "from": start}
    else:
        allowance = _("%(days)s days from day %(from)s") % {
            "days": _shown(days),
            "from": _shown(start),
        }
    adherence = _("adherence over %(w)s days ≥ %(p)s%%") % {
        "w": _shown(tier.get("adherence_window")),
        "p": _shown(tier.get("adherence_min")),
    }
    free = tier.get("positive_free_days")
    positive_free = (
        _("no positive urine sample in the last %(n)s days") % {"n": _shown(free)}
        if free
        else NOT_CHECKED
    )
    one_negative = NOT_CHECKED
    if tier.get("needs_one_negative_in_window") is True and free:
        one_negative = _("at least one negative sample in the last %(n)s days") % {
            "n": _shown(free)
        }
    run = tier.get("min_negative_run")
    negative_run = _("negative run ≥ %(n)s") % {"n": _shown(run)} if run else NOT_CHECKED
    return (allowance, adherence, positive_free, one_negative, negative_run)


def _tiers(document: dict) -> Part:
    raw = document.get("tiers")
    tiers = [t for t in raw if isinstance(t, dict)] if isinstance(raw, list) else []
    tiers.sort(key=lambda t: (_number(t.get("days")) or 0, _number(t.get("from_day")) or 0))
    return Part(
        title=_("Take-home tiers"),
        header=(
            _("Days at home"),
            _("Attendance"),
            _("Positive urine samples"),
            _("Negative sample"),
            _("Negative run"),
        ),
        rows=tuple(_tier_row(t) for t in tiers),
        lines=(
            _(
                "A client gets the days of the highest tier whose start day is reached and whose"
                " conditions are all met. A tier not met steps the client down to the next one;"
                " only when no tier is met is take-home not allowed."
            ),
        ),
    )


def _closed_days(document: dict) -> Part:
    closed = document.get("closed_days")
    closed = closed if isinstance(closed, dict) else {}
    lines = []
    most = closed.get("max_days", 0)
    if _number(most):
        lines.append(
            ngettext(
                "up to %(n)d day at home when the centre is closed",
                "up to %(n)d days at home when the centre is closed",
                most,
            )
            % {"n": most}
        )
    elif most in (0, None):
        lines.append(_("no take-home allowance for closed days"))
    else:
        lines.append(_("up to %(n)s days at home when the centre is closed") % {"n": most})
    weekdays = closed.get("weekdays") or []
    names = [
        str(WEEKDAYS[w]) if _number(w) is not None and 0 <= w <= 6 else _shown(w)
        for w in (weekdays if isinstance(weekdays, list) else [weekdays])
    ]
    if names:
        lines.append(_("closed every %(days)s") % {"days": _(", ").join(names)})
    else:
        lines.append(_("no weekly closing day"))
    if closed.get("public_holidays", True):
        lines.append(_("public holidays count as closed days"))
    else:
        lines.append(_("public holidays do not count as closed days"))
    if closed.get("needs_police_check", False):
        lines.append(_("a closed-day take-home needs a passed police record check"))
    else:
        lines.append(_("a closed-day take-home needs no police record check"))
    return Part(title=_("Closed days"), lines=tuple(lines))


def _administrative(document: dict) -> Part:
    names = document.get("administrative") or []
    valid = document.get("record_check_valid_days", 365)
    lines = []
    for name in names if isinstance(names, list) else [names]:
        if name == "police_record_check":
            lines.append(
                _("a passed police record check, valid for %(n)s days") % {"n": _shown(valid)}
            )
        elif name == "lockbox_issued":
            lines.append(_("a lockbox issued to the client"))
        elif name == "consent_police_record_check":
            lines.append(_("the client's consent to the police record check"))
        elif name == "consent_sms":
            lines.append(_("the client's consent to text messages"))
        else:
            lines.append(_shown(name))
    return Part(title=_("Administrative checks"), lines=tuple(lines) or (_("none"),))


def _to_confirm(document: dict) -> Part | None:
    texts = document.get("to_confirm") or []
    if not isinstance(texts, list) or not texts:
        return None
    return Part(
        title=_("The clinician confirms"),
        lines=tuple(str(CONFIRM_TEXTS.get(t, t)) if isinstance(t, str) else str(t) for t in texts),
    )


def describe(document) -> list[Part]:
    """The document as parts to show: the tiers as a table, then closed days,
    administrative checks and what the clinician confirms. Empty for a non-object."""
    if not isinstance(document, dict):
        return []
    parts = [_tiers(document), _closed_days(document), _administrative(document)]
    confirm = _to_confirm(document)
    if confirm:
        parts.append(confirm)
    return parts
