"""Registry screens. Thin: forms gather input, actions change state, queries read.

Identity never appears on a page unless a permitted user asks for it (POST), and that
request is audited by `actions.read_identity`.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pingan.accounts.decorators import requires
from pingan.accounts.roles import perm
from pingan.core import clock
from pingan.core.models import Centre
from pingan.core.posting import on_form, refusals, run_form
from pingan.region.current import centre_id, current_centre

from . import actions, queries, timeline
from .forms import (
    ConsentForm,
    DischargeForm,
    EnrolForm,
    EraseForm,
    IdentityForm,
    PhotoForm,
    ReEnrolForm,
    RevokeForm,
    TransferForm,
)
from .models import Client, Identity, Transfer

PAGE_SIZE = 50
# Without a document number there is nothing to look up across the region but the phone.
NOT_CHECKED = gettext_lazy(
    "No document number was given, so whether this client is already in treatment at another "
    "centre of the region could not be checked."
)
PHONE_ONLY = gettext_lazy(
    "No document number was given: whether this client is already in treatment at another "
    "centre of the region was checked by the phone number only."
)


def _is_duplicate(exc: ValidationError) -> bool:
    return not hasattr(exc, "error_dict") and any(e.code == "duplicate" for e in exc.error_list)


def _treated_elsewhere(exc: ValidationError) -> bool:
    return not hasattr(exc, "error_dict") and any(
        e.code == "treated_elsewhere" for e in exc.error_list
    )


def _without_identity(form_class, request, exc: ValidationError, **kwargs):
    """The form again after a refusal because the person is in treatment elsewhere: the
    identity typed is not echoed back (nothing was saved), only the refusal is shown."""
    data = request.POST.copy()
    for name in ("name", "national_id", "phone", "address"):
        data[name] = ""
    form = form_class(data, **kwargs)
    form.is_valid()
    form.add_error(None, exc)
    return form


def _client(request, external_id) -> Client:
    """The client of the URL, when they belong to the current centre (else 404)."""
    return get_object_or_404(
        Client.objects.defer("photo"), external_id=external_id, centre_id=centre_id(request)
    )


@require_GET
@requires("view_client", "view_health_data", any_of=True)
def client_list(request):
    search = request.GET.get("q", "")
    status = request.GET.get("status", "")
    rows = queries.client_list(search, status, centre_id=centre_id(request))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "registry/list.html",
        {
            "page": page,
            "q": search,
            "status": status,
            "query": query.urlencode(),
            "today": clock.today(),
            "attempts": queries.attempts_elsewhere(centre_id(request))
            if request.user.has_perm(perm("view_client"))
            else [],
        },
    )


@require_GET
@requires("view_client", "view_health_data", any_of=True)
def client_detail(request, external_id):
    client = _client(request, external_id)
    episode = queries.open_episode(client)
    today = clock.today()
    can_identity = request.user.has_perm(perm("view_identity"))
    # The timeline mixes clinical and service history: staff with view_client only.
    show_timeline = request.user.has_perm(perm("view_client"))
    shown = timeline.parse_kinds(request.GET.getlist("show"))
    return render(
        request,
        "registry/detail.html",
        {
            "timeline": timeline.timeline(client, shown) if show_timeline else None,
            "timeline_kinds": list(timeline.KINDS.items()),
            "timeline_shown": shown,
            "client": client,
            "episode": episode,
            "episodes": client.episodes.select_related("centre").order_by("-enrolled_on"),
            "consents": queries.consent_lines(client),
            "today": today,
            "age": today.year - client.birth_year,
            "day_of_treatment": queries.days_in_treatment(
                episode.enrolled_on if episode else None, today
            ),
            "can_identity": can_identity,
            "has_identity": can_identity and Identity.objects.filter(client=client).exists(),
            "has_photo": request.user.has_perm(perm("view_client"))
            and Client.objects.filter(pk=client.pk).exclude(photo="").exists(),
            "discharge_form": DischargeForm(),
            "re_enrol_form": ReEnrolForm(),
            "consent_form": ConsentForm(),
            "photo_form": PhotoForm(),
            "attempts": queries.attempts_elsewhere(None, client=client)
            if request.user.has_perm(perm("view_client"))
            else [],
        },
    )


@require_http_methods(["GET", "POST"])
@requires("enrol_client")
def enrol(request):
    form = EnrolForm(request.POST or None)
    duplicate = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            client = actions.enrol_client(
                alias=data["alias"],
                sex=data["sex"],
                birth_year=data["birth_year"],
                language=data.get("language") or "zh-hans",
                enrolled_on=data.get("enrolled_on"),
                identity=form.identity_input(),
                user=request.user,
                allow_duplicate=data.get("confirm_duplicate", False),
                centre=current_centre(request),
            )
        except ValidationError as exc:
            if _is_duplicate(exc):
                duplicate = exc.error_list[0].params["codes"]
            elif _treated_elsewhere(exc):
                form = _without_identity(EnrolForm, request, exc)
            else:
                on_form(form, exc)
        else:
            messages.success(request, _("Client %(code)s enrolled.") % {"code": client.code})
            if not data.get("national_id", "").strip():
                checked_by_phone = data.get("phone", "").strip()
                messages.warning(request, str(PHONE_ONLY if checked_by_phone else NOT_CHECKED))
            return redirect("registry:detail", external_id=client.external_id)
    return render(
        request,
        "registry/enrol.html",
        {"form": form, "duplicate": duplicate},
    )


@require_POST
@requires("view_identity")
def identity_reveal(request, external_id):
    """Decrypt on an explicit request only; the page never carries identity by default."""
    client = _client(request, external_id)
    identity = actions.read_identity(client, request.user)
    template = (
        "registry/_identity.html" if request.headers.get("HX-Request") else "registry/identity.html"
    )
    response = render(request, template, {"client": client, "identity": identity})
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
@requires("view_identity", "enrol_client")
def identity_edit(request, external_id):
    client = _client(request, external_id)
    duplicate = None
    if request.method == "POST":
        form = IdentityForm(request.POST)
        if form.is_valid():
            try:
                actions.update_identity(
                    client,
                    form.identity_input(),
                    request.user,
                    allow_duplicate=form.cleaned_data["confirm_duplicate"],
                )
            except ValidationError as exc:
                if _is_duplicate(exc):
                    duplicate = exc.error_list[0].params["codes"]
                elif _treated_elsewhere(exc):
                    form = _without_identity(IdentityForm, request, exc)
                else:
                    on_form(form, exc)
            else:
                messages.success(request, _("Identity saved."))
                return redirect("registry:detail", external_id=client.external_id)
    else:
        # Filling the form with the stored values is itself a read, audited as one.
        current = actions.read_identity(client, request.user)
        initial = current.__dict__ if current else {}
        form = IdentityForm(initial=initial)
    response = render(
        request,
        "registry/identity_edit.html",
        {"client": client, "form": form, "duplicate": duplicate, "erase_form": EraseForm()},
    )
    add_never_cache_headers(response)
    return response


@require_POST
@requires("view_identity", "enrol_client")
def identity_erase(request, external_id):
    client = _client(request, external_id)
    form = EraseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason to erase the identity."))
        return redirect("registry:identity_edit", external_id=client.external_id)
    if actions.erase_identity(client, request.user, form.cleaned_data["reason"]):
        messages.success(request, _("Identity erased; the client continues anonymously."))
    return redirect("registry:detail", external_id=client.external_id)


def _post_action(request, client, form, run, success: str):
    """Shared shape of the small POST forms on the client page."""
    run_form(request, form, run, success)
    return redirect("registry:detail", external_id=client.external_id)


@require_POST
@requires("manage_consent")
def consent_record(request, external_id):
    client = _client(request, external_id)
    return _post_action(
        request,
        client,
        ConsentForm(request.POST),
        lambda d: actions.record_consent(
            client, d["purpose"], d["given_on"], request.user, d["note"]
        ),
        _("Consent recorded."),
    )


@require_POST
@requires("manage_consent")
def consent_revoke(request, external_id):
    client = _client(request, external_id)
    return _post_action(
        request,
        client,
        RevokeForm(request.POST),
        lambda d: actions.revoke_consent(
            client, d["purpose"], d["revoked_on"], request.user, d["note"]
        ),
        _("Consent revoked."),
    )


@require_POST
@requires("enrol_client")
def discharge(request, external_id):
    client = _client(request, external_id)
    return _post_action(
        request,
        client,
        DischargeForm(request.POST),
        lambda d: actions.discharge(client, d["on"], d["reason"], request.user, d["note"]),
        _("Client discharged."),
    )


@require_POST
@requires("enrol_client")
def re_enrol(request, external_id):
    client = _client(request, external_id)
    return _post_action(
        request,
        client,
        ReEnrolForm(request.POST),
        lambda d: actions.re_enrol(client, d["on"], request.user),
        _("Client re-enrolled: a new treatment episode is open."),
    )


@require_POST
@requires("enrol_client")
def photo_upload(request, external_id):
    client = get_object_or_404(Client, external_id=external_id, centre_id=centre_id(request))
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a photo to upload."))
    else:
        upload = form.cleaned_data["photo"]
        data = upload.read(actions.PHOTO_MAX_BYTES + 1)
        with refusals(request) as outcome:
            actions.set_photo(client, data, request.user)
        if not outcome.refused:
            messages.success(request, _("Photo saved."))
    return redirect("registry:detail", external_id=client.external_id)


@require_GET
@requires("view_client")
def photo(request, external_id):
    """The photo is decrypted per request and never cached by the browser or a proxy."""
    client = get_object_or_404(Client, external_id=external_id, centre_id=centre_id(request))
    found = actions.photo_bytes(client)
    if found is None:
        raise Http404
    mime, data = found
    response = HttpResponse(data, content_type=mime)
    add_never_cache_headers(response)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_http_methods(["GET", "POST"])
@requires("prescribe")
def transfer(request, external_id):
    """Transfer a client of this centre to another centre of the region: the form, then a
    confirmation (the client leaves this centre's lists), then the action."""
    client = _client(request, external_id)
    centres = Centre.objects.exclude(pk=client.centre_id).order_by("code")
    form = TransferForm(request.POST or None, centres=centres)
    confirming = False
    if request.method == "POST" and "confirmed" not in request.POST:
        confirming = form.is_valid()
    elif request.method == "POST":
        done = []

        def run(d):
            done.append(
                actions.transfer_client(
                    client, d["to_centre"], form.consent_given_on(), d["reason"], request.user
                )
            )

        if run_form(request, form, run, _("Client transferred."), on_form=True):
            return redirect("registry:transfer_done", external_id=done[0].external_id)
    return render(
        request,
        "registry/transfer.html",
        {"client": client, "form": form, "confirming": confirming, "centres": centres},
    )


@require_GET
@requires("view_client")
def transfer_done(request, external_id):
    """Where a client of this centre went (their record is the other centre's now)."""
    moved = get_object_or_404(
        Transfer.objects.select_related("client", "from_centre", "to_centre", "by"),
        external_id=external_id,
        from_centre_id=centre_id(request),
    )
    return render(request, "registry/transfer_done.html", {"transfer": moved})


@require_GET
@requires("view_client")
def transfers_out(request):
    """The clients this centre transferred to other centres, latest first."""
    rows = Transfer.objects.filter(from_centre_id=centre_id(request)).select_related(
        "client", "to_centre", "by"
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "registry/transfers_out.html", {"page": page})
