"""The manager's audit screen: search the log and check the chain."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from pingan.accounts.decorators import requires

from . import queries
from .forms import AuditFilterForm
from .log import verify
from .models import AuditEntry

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
    """Run on demand: it reads the whole log, so it is a button, not part of every page."""
    breaks = verify()
    context = {"breaks": breaks, "total": AuditEntry.objects.count()}
    template = "audit/_verify.html" if request.headers.get("HX-Request") else "audit/verify.html"
    return render(request, template, context)
