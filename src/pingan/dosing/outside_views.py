"""The screen of guests from outside the installation, for the current centre's clinicians
(docs/region.md, "Guests from outside the installation"): a guest slip signed outside is
uploaded here (this centre is its host), each visit's signed dose return is downloaded
here (or every visit's at once, one ZIP file), and a dose return for a slip this centre
issued is uploaded here.

Views only gather input and show output; the reading, checking and writing are
`visiting`'s. A refused file shows its reason on the page (status 400), nothing written.
"""

from __future__ import annotations

import io
import zipfile

from django import forms
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from pingan.accounts.decorators import requires
from pingan.core import clock
from pingan.core.models import Centre
from pingan.core.posting import refusals, run_form
from pingan.region import signed
from pingan.region.current import current_centre

from . import visiting
from .models import Dose, GuestSlip, VisitingGuest


class SignedFileForm(forms.Form):
    """One signed file; one larger than any signed document is refused unread."""

    file = forms.FileField(label=gettext_lazy("Signed file"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > signed.MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is too large to be a signed document (at most %(kb)d KB).")
                % {"kb": signed.MAX_FILE_BYTES // 1024}
            )
        return upload


def _bytes(upload) -> bytes:
    return upload.read(signed.MAX_FILE_BYTES + 1)


def _here(request) -> Centre:
    centre = current_centre(request)
    if centre is None:
        raise Http404
    return centre


def _doses_between(client_field: str):
    """The number of doses a row's client has on the row's days."""
    doses = (
        Dose.objects.filter(
            client=OuterRef(client_field),
            date__gte=OuterRef("valid_from"),
            date__lte=OuterRef("valid_to"),
        )
        .order_by()
        .values("client")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(doses, output_field=IntegerField()), 0)


def _page(request, here: Centre, status: int = 200, **forms_shown):
    visits = (
        VisitingGuest.objects.filter(client__centre=here)
        .select_related("client")
        .defer("client__photo", "signed_file")
        .annotate(doses_given=_doses_between("client"))
        .order_by("-valid_from", "client__code")
    )
    away = (
        GuestSlip.objects.filter(client__centre=here, host__isnull=True)
        .exclude(outside_host="")
        .select_related("client")
        .defer("client__photo")
        .annotate(doses_returned=Count("returned_doses"))
        .order_by("-valid_from", "client__code")
    )
    return render(
        request,
        "dosing/outside.html",
        {
            "centre": here,
            "today": clock.today(),
            "visits": visits,
            "away": away,
            "slip_form": forms_shown.get("slip_form") or SignedFileForm(prefix="slip"),
            "return_form": forms_shown.get("return_form") or SignedFileForm(prefix="return"),
        },
        status=status,
    )


@require_GET
@requires("prescribe")
def outside(request):
    return _page(request, _here(request))


def _upload(request, prefix: str, read, saved: str):
    """A signed file uploaded for this centre and read by `read(data, here)`; refused, the
    page again with the form showing the reason (400)."""
    here = _here(request)
    form = SignedFileForm(request.POST, request.FILES, prefix=prefix)
    if run_form(request, form, lambda d: read(_bytes(d["file"]), here), saved, on_form=True):
        return redirect("dosing:outside")
    return _page(request, here, status=400, **{f"{prefix}_form": form})


@require_POST
@requires("prescribe")
def outside_slip(request):
    """A guest slip signed outside, with this centre as its host."""
    return _upload(
        request,
        "slip",
        lambda data, here: visiting.import_slip(data, here, request.user),
        _("The guest slip was imported: the guest is on the queue on the slip's days."),
    )


@require_POST
@requires("prescribe")
def outside_return_in(request):
    """A dose return signed outside, for a slip this centre issued."""
    return _upload(
        request,
        "return",
        lambda data, here: visiting.import_return(data, request.user, home=here),
        _("The dose return was imported: its doses are on the client's record."),
    )


@require_POST
@requires("prescribe")
def outside_return_out(request, external_id):
    """The signed dose return of one visit here, as a file to send to the home centre."""
    here = _here(request)
    visit = get_object_or_404(
        VisitingGuest.objects.select_related("client__centre").defer("client__photo"),
        external_id=external_id,
        client__centre=here,
    )
    with refusals(request) as outcome:
        data, _returned = visiting.write_return(visit, request.user)
    if outcome.refused:
        return _page(request, here, status=400)
    return _attachment(data, "application/json", f"dose-return-{visit.slip_id}.json")


def _attachment(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
@requires("prescribe")
def outside_returns_out(request):
    """Every visit's signed dose return at this centre, one file per slip in a ZIP file, as
    `pingan guest returns --out FOLDER` writes them (each written return is audited)."""
    here = _here(request)
    visits = (
        VisitingGuest.objects.filter(client__centre=here)
        .select_related("client__centre")
        .defer("client__photo")
        .order_by("valid_from", "pk")
    )
    buffer = io.BytesIO()
    with refusals(request) as outcome, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for visit in visits:
            data, _returned = visiting.write_return(visit, request.user)
            zf.writestr(f"dose-return-{visit.slip_id}.json", data)
    if outcome.refused:
        return _page(request, here, status=400)
    day = clock.today().isoformat()
    return _attachment(buffer.getvalue(), "application/zip", f"dose-returns-{here.code}-{day}.zip")
