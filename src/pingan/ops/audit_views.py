"""The manager's audit screen: search the log and check the chain. It lives here, above
every app, because it names every app's actions and is guarded by the accounts layer."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from pingan.accounts.decorators import requires
from pingan.audit import anchor, keys, queries
from pingan.audit.forms import AuditFilterForm
from pingan.audit.log import check

PAGE_SIZE = 50


@require_GET
@requires("view_audit")
def entry_list(request):
    form = AuditFilterForm(request.GET or None, actions=queries.actions())
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    rows = queries.search(**{k: v for k, v in filters.items() if v})
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/list.html",
        {"form": form, "page": page, "query": query.urlencode()},
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
