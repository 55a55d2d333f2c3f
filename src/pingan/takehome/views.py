"""Screens of the take-home app: thin, each declaring its permission. The police screens are
built from their own narrow context (request, client code, consented identity) so nothing
clinical can reach their templates by accident."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from pingan.accounts.decorators import requires
from pingan.core import clock
from pingan.core.domain import may, role_of
from pingan.core.posting import refusals
from pingan.region.current import centre_id, in_centre
from pingan.registry.models import Client

from . import actions, changes, closures, impact, nightly, queries, suspensions
from .describe import describe
from .models import (
    Incident,
    Profile,
    RecordCheck,
    RequestKind,
    RequestStatus,
    Standard,
    TakeHomeBottle,
    TakeHomeRequest,
)
from .standard import PROFILES, default_document, parse
from .standard_forms import StandardEditor

STAFF = ("view_eligibility", "decide_takehome", "dispense_takehome")


@requires(*STAFF, "record_check", "sign_standard", "draft_standard", any_of=True)
def index(request: HttpRequest) -> HttpResponse:
    here = centre_id(request)
    waiting = (
        TakeHomeRequest.objects.filter(client__centre_id=here)
        .select_related("client")
        .defer("client__photo")
    )
    # The queues name clients: only staff see them (an officer reaches this page too).
    staff = may(request.user, *STAFF, any_of=True)
    to_dispense = list(waiting.filter(status=RequestStatus.READY)[:50]) if staff else []
    standing = suspensions.all_standing().filter(client__centre_id=here)
    suspended = list(standing[:100]) if staff else []
    held = suspensions.standing_for(r.client_id for r in to_dispense)
    return render(
        request,
        "takehome/index.html",
        {
            "to_decide": waiting.filter(status=RequestStatus.REQUESTED)[:50],
            "to_dispense": [(r, r.client_id in held) for r in to_dispense],
            "suspended": suspended,
            "today": clock.today(),
            "checks_waiting": waiting.filter(status=RequestStatus.APPROVED).count(),
            "open_incidents": Incident.objects.filter(closed_at__isnull=True).count(),
        },
    )


@requires("view_eligibility")
def eligibility(request: HttpRequest) -> HttpResponse:
    day = clock.today()
    standard = queries.standard_in_force(day)
    listed = nightly.nightly_list(day, queries.rules_of(standard))
    only = request.GET.get("show", "allowed")
    decisions = listed.decisions(only_allowed=only == "allowed")
    codes = {d.client for d in decisions}
    ids = dict(
        Client.objects.filter(code__in=codes, centre_id=centre_id(request)).values_list(
            "code", "external_id"
        )
    )
    # The nightly list covers the installation; the screen shows the current centre's.
    rows = [(d, ids[d.client]) for d in decisions if d.client in ids]
    return render(
        request,
        "takehome/eligibility.html",
        {"rows": rows, "day": day, "standard": standard, "show": only},
    )


@requires(*STAFF, any_of=True)
def client(request: HttpRequest, external_id) -> HttpResponse:
    person = get_object_or_404(
        Client.objects.defer("photo"), external_id=external_id, centre_id=centre_id(request)
    )
    day = clock.today()
    standard = queries.standard_in_force(day)
    rules_ = queries.rules_of(standard)
    return render(
        request,
        "takehome/client.html",
        {
            "person": person,
            "standard": standard,
            "decision": queries.evaluate_client(person, day, rules_),
            "requests": person.takehome_requests.all()[:20],
            "outstanding": actions.outstanding_bottles(person, day),
            "bottles": TakeHomeBottle.objects.filter(client=person).order_by("-day")[:30],
            "incidents": Incident.objects.filter(client=person)[:20],
            "closed_ahead": closures.closed_days(day + timedelta(days=1), 30, rules_),
            "closed_max": rules_.closed_days.max_days,
            "box": actions.active_box(person),
            "suspension": suspensions.standing(person),
            "suspensions": suspensions.history(person),
            "today": day,
        },
    )


@require_POST
@requires("decide_takehome", "dispense_takehome", any_of=True)
def new_request(request: HttpRequest, external_id) -> HttpResponse:
    person = get_object_or_404(
        in_centre(request, Client.objects.defer("photo"), "centre"), external_id=external_id
    )
    with refusals(request) as outcome:
        made = actions.request_takehome(
            person,
            request.POST.get("days"),
            request.user,
            kind=request.POST.get("kind", RequestKind.REGULAR),
            reason=request.POST.get("reason", ""),
        )
    if outcome.refused:
        return redirect("takehome:client", external_id=external_id)
    return redirect("takehome:request", external_id=made.external_id)


def _future_days(req: TakeHomeRequest) -> list[tuple[date, str | None]]:
    rules_ = queries.rules_of(req.standard)
    start = clock.today() + timedelta(days=1)
    return [
        (d, closures.closed_reason(d, rules_))
        for d in (start + timedelta(days=i) for i in range(21))
    ]


@requires(*STAFF, any_of=True)
def request_detail(request: HttpRequest, external_id) -> HttpResponse:
    req = get_object_or_404(
        in_centre(
            request,
            TakeHomeRequest.objects.select_related("client", "standard", "decided_by"),
        ),
        external_id=external_id,
    )
    check = getattr(req, "record_check", None)
    ready = req.status == RequestStatus.READY
    return render(
        request,
        "takehome/request.html",
        {
            "req": req,
            "check": check,
            "snapshot": req.eligibility,
            "days": _future_days(req) if ready else [],
            # The dispense re-check, shown before the nurse chooses the days.
            "lapses": actions.dispense_lapses(req, clock.today()) if ready else [],
            "bottles": req.bottles.order_by("day"),
        },
    )


@require_POST
@requires("decide_takehome")
def decide(request: HttpRequest, external_id) -> HttpResponse:
    req = get_object_or_404(
        in_centre(request, TakeHomeRequest.objects.all()), external_id=external_id
    )
    approve = request.POST.get("approve") == "yes"
    with refusals(request):
        actions.decide_takehome(
            req, request.user, approve, request.POST.get("days"), request.POST.get("reason", "")
        )
    return redirect("takehome:request", external_id=external_id)


@require_POST
@requires("dispense_takehome")
def dispense(request: HttpRequest, external_id) -> HttpResponse:
    req = get_object_or_404(
        in_centre(request, TakeHomeRequest.objects.all()), external_id=external_id
    )
    try:
        days = [date.fromisoformat(v) for v in request.POST.getlist("day")]
    except ValueError:
        messages.error(request, _("Choose the days from the list."))
        return redirect("takehome:request", external_id=external_id)
    with refusals(request) as outcome:
        bottles = actions.dispense_takehome(req, days, request.user)
    if not outcome.refused:
        messages.success(request, _("%(n)d bottles dispensed.") % {"n": len(bottles)})
    return redirect("takehome:request", external_id=external_id)


@require_POST
@requires("dispense_takehome")
def returns(request: HttpRequest, external_id) -> HttpResponse:
    """Count the bottles brought back; with "mark the rest missing", the others open incidents."""
    person = get_object_or_404(
        in_centre(request, Client.objects.defer("photo"), "centre"), external_id=external_id
    )
    outstanding = list(actions.outstanding_bottles(person))
    back = set(request.POST.getlist("bottle"))
    returned = [b for b in outstanding if str(b.external_id) in back]
    with refusals(request) as outcome:
        count = actions.return_bottles(returned, request.user)
        missing = 0
        if request.POST.get("rest_missing") == "yes":
            for bottle in outstanding:
                if str(bottle.external_id) not in back:
                    actions.mark_missing(bottle, request.user, request.POST.get("note", ""))
                    missing += 1
    if not outcome.refused:
        messages.success(
            request,
            _("%(n)d empty bottles counted back, %(m)d marked missing.")
            % {"n": count, "m": missing},
        )
    return redirect("takehome:client", external_id=external_id)


@require_POST
@requires("decide_takehome")
def close_incident(request: HttpRequest, external_id) -> HttpResponse:
    incident = get_object_or_404(
        in_centre(request, Incident.objects.select_related("client")), external_id=external_id
    )
    with refusals(request):
        actions.close_incident(incident, request.user, request.POST.get("note", ""))
    return redirect("takehome:client", external_id=incident.client.external_id)


# Police record checks ---------------------------------------------------------------------


@requires("record_check")
def checks(request: HttpRequest) -> HttpResponse:
    waiting = (
        TakeHomeRequest.objects.filter(status=RequestStatus.APPROVED)
        .order_by("created_at")
        .values("external_id", "client__code", "kind", "approved_days", "requested_on")
    )
    return render(request, "takehome/police_checks.html", {"waiting": list(waiting)})


def _for_check(external_id) -> TakeHomeRequest:
    return get_object_or_404(
        TakeHomeRequest.objects.select_related("client").defer("client__photo"),
        external_id=external_id,
    )


@requires("record_check")
@never_cache
def check(request: HttpRequest, external_id) -> HttpResponse:
    """The officer's record check. Identity (only the fields the client consented to, each
    read audited) is shown only while the request awaits the check, which any police
    officer may do; before that, and once it is done, refused or dispensed, the page shows
    where the check stands and nothing that identifies the client."""
    req = _for_check(external_id)
    if request.method == "POST":
        passed = request.POST.get("passed") == "yes"
        with refusals(request) as outcome:
            actions.record_check(req, request.user, passed, request.POST.get("reason", ""))
        if outcome.refused:
            req = _for_check(external_id)  # another officer may have just checked it
        else:
            messages.success(request, _("The record check is recorded."))
            return redirect("takehome:checks")
    waiting = req.status == RequestStatus.APPROVED
    consent = waiting and actions.has_check_consent(req.client)
    identity = actions.disclosed_identity(req, request.user) if consent else None
    done = RecordCheck.objects.filter(request=req).only("passed", "checked_on").first()
    view = {
        "external_id": req.external_id,
        "code": req.client.code,
        "kind": req.get_kind_display(),
        "days": req.approved_days,
        "requested_on": req.requested_on,
        "waiting": waiting,
    }
    outcome = {"passed": done.passed, "checked_on": done.checked_on} if done else None
    return render(
        request,
        "takehome/police_check.html",
        {"req": view, "consent": consent, "identity": identity, "outcome": outcome},
    )


# The standard -------------------------------------------------------------------------------


@requires("view_eligibility", "sign_standard", "draft_standard", any_of=True)
def standards(request: HttpRequest) -> HttpResponse:
    versions = Standard.objects.prefetch_related("signatures__signer").select_related("drafted_by")
    return render(
        request,
        "takehome/standards.html",
        {
            "versions": [(s, describe(s.document)) for s in versions],
            "in_force": queries.standard_in_force(),
            "today": clock.today(),
        },
    )


def _what_it_changes(request: HttpRequest, profile: str, document: dict) -> dict:
    """The diff against the version in force and the impact on today's clients, as the
    template shows them. The clients themselves (by programme code) only to staff who may
    read the eligibility list; the police and the CDC get the counts and nothing else."""
    in_force = queries.standard_in_force()
    found = impact.impact(clock.today(), queries.rules_of(in_force), parse(profile, document))
    shown = {
        "in_force": in_force,
        "changes": changes.changes(in_force.profile, in_force.document, profile, document),
        "counts": found.counts,
        "impact_day": found.day,
    }
    if may(request.user, "view_eligibility"):
        shown["more"], shown["fewer"] = found.more, found.fewer
    return shown


@requires("draft_standard")
def standard_new(request: HttpRequest) -> HttpResponse:
    """The editor: tiers and criteria as fields. "Check and preview" shows what the draft
    changes and what it would do to today's clients; "Save the draft" stores it, only when
    every field and the whole passed (nothing is written otherwise)."""
    current = queries.standard_in_force()
    profile = request.GET.get("profile")
    if profile in PROFILES:
        editor = StandardEditor(document=default_document(profile), profile=profile)
    else:
        editor = StandardEditor(document=current.document, profile=current.profile)
    context: dict = {"profiles": Profile.choices, "checked": False}
    if request.method == "POST":
        editor = StandardEditor(request.POST)
        if "add_tier" in request.POST:
            editor = editor.with_one_more_tier(request.POST)
        elif editor.is_valid():
            document = editor.document()
            if not request.POST.get("preview"):
                with refusals(request) as outcome:
                    made = actions.draft_standard(
                        editor.profile,
                        document,
                        request.user,
                        editor.note,
                        effective_from=editor.effective_from,
                    )
                if not outcome.refused:
                    messages.success(
                        request,
                        _("Version %(v)d drafted: it needs both signatures.") % {"v": made.version},
                    )
                    return redirect("takehome:standards")
            context.update(_what_it_changes(request, editor.profile, document))
            context["parts"] = describe(document)
            context["checked"] = True
        else:
            context["checked"] = True
            context["refused"] = not request.POST.get("preview")
    context.update({"editor": editor, "form": editor.form, "tiers": editor.tiers})
    return render(request, "takehome/standard_new.html", context)


@requires("sign_standard")
def standard_sign(request: HttpRequest, external_id) -> HttpResponse:
    """Signing is two steps: this page shows the version, what it changes against the version
    in force and what it would do to today's clients; only a POST from it, with the
    confirmation ticked and the same version in force as shown, signs."""
    standard = get_object_or_404(
        Standard.objects.prefetch_related("signatures__signer"), external_id=external_id
    )
    shown = _what_it_changes(request, standard.profile, standard.document)
    role = role_of(request.user)
    signed_by = {s.role: s for s in standard.signatures.all()}
    may_sign = (
        not standard.shipped_default
        and standard.effective_on is None
        and role in ("cdc", "police")
        and role not in signed_by
    )
    if request.method == "POST":
        confirmed = request.POST.get("confirm") == "yes"
        same = request.POST.get("against") == str(shown["in_force"].version)
        if not confirmed:
            messages.error(
                request,
                _("Not signed: tick the confirmation under the changes, then sign."),
            )
        elif not same:
            messages.error(
                request,
                _(
                    "Not signed: the version in force changed since the page was shown. Read the changes again."
                ),
            )
        else:
            counts = shown["counts"]
            seen = {
                "compared_with": shown["in_force"].version,
                **{k: counts[k] for k in ("clients", "more", "fewer", "unchanged")},
            }
            with refusals(request) as outcome:
                actions.sign_standard(standard, request.user, seen=seen)
            if not outcome.refused:
                messages.success(request, _("Signed."))
                return redirect("takehome:standards")
        return redirect("takehome:standard_sign", external_id=external_id)
    return render(
        request,
        "takehome/standard_sign.html",
        {
            **shown,
            "standard": standard,
            "parts": describe(standard.document),
            "signatures": list(signed_by.values()),
            "may_sign": may_sign,
            "signed_here": role in signed_by,
            "role": role,
        },
    )
