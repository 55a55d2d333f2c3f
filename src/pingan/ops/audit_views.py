"""The manager's audit screen: search the log and check the chain. It lives here, above
every app, because it names every app's actions and is guarded by the accounts layer."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from pingan.accounts.decorators import requires
from pingan.audit import anchor, keys, labels, queries
from pingan.audit.forms import AuditFilterForm
from pingan.audit.log import check
from pingan.core.models import Centre
from pingan.region.current import NO_CENTRE, current_centre, works_in_centres
from pingan.region.models import Membership

PAGE_SIZE = 50
FILTERS = ("client_code", "username", "action", "date_from", "date_to")


def _scope(request) -> dict:
    """In a region of several centres, a centre's staff read their current centre's entries
    (`audit.queries.search`); with one centre, or for a regional officer, the whole log."""
    if Centre.objects.count() <= 1 or not works_in_centres(request.user):
        return {}
    here = current_centre(request)
    if here is None:
        return {"centre_id": NO_CENTRE}
    members = Membership.objects.filter(centre=here).values_list("user__username", flat=True)
    return {"centre_id": here.pk, "members": list(members)}


@require_GET
@requires("view_audit")
def entry_list(request):
    """The log, newest first, filtered by action (the codes the log holds, by their
    label), user, client code and dates. A filter that does not make sense is said so
    above the form and nothing is listed, rather than the whole log shown as if filtered."""
    scope = _scope(request)
    filters_given = any(request.GET.get(name) for name in FILTERS)
    form = AuditFilterForm(request.GET if filters_given else None, actions=queries.actions())
    invalid = form.is_bound and not form.is_valid()
    if invalid:
        rows = queries.search().none()
    else:
        filters = form.cleaned_data if form.is_bound else {}
        rows = queries.search(**{k: v for k, v in filters.items() if v}, **scope)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "invalid": invalid,
            "usernames": queries.usernames(),
            "centre": current_centre(request) if scope else None,
        },
        status=400 if invalid else 200,
    )


@require_POST
@requires("view_audit")
def verify_chain(request):
    """Run on demand: it reads the whole log, so it is a button, not part of every page.
    The log is checked against the centre's own signed checkpoints as well, when any."""
    context = {"breaks": [], "rejected": [], "matched": 0, "total": 0, "error": ""}
    try:
        path = anchor.default_path()
        reading = anchor.read(path, anchor.trusted_keys()) if path.exists() else None
        report = check(checkpoints=reading.checkpoints if reading else ())
    except (keys.AuditKeyError, anchor.CheckpointError) as error:
        context["error"] = str(error)
    else:
        context.update(
            breaks=report.breaks,
            rejected=reading.problems if reading else [],
            matched=report.checkpoints_matched,
            total=report.total,
        )
    template = "audit/_verify.html" if request.headers.get("HX-Request") else "audit/verify.html"
    return render(request, template, context)


def _indicator_target(target: str) -> str | None:
    """ "takehome_opiate_positive_rate 2026-10" as the indicator's label and the month."""
    from pingan.indicators.definitions import INDICATORS

    code, _sep, month = target.partition(" ")
    for indicator in INDICATORS:
        if indicator.id == code:
            return f"{indicator.label} {month}".strip()
    return None


def install_target_readers() -> None:
    labels.TARGET_READERS["indicators.drilldown"] = _indicator_target
