"""Journey: a police officer reaching clinical pages is refused, and the attempt is audited
(docs/confidentiality.md: the police never see a clinical record; §3.1: every access is logged)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pingan.audit.models import AuditEntry
from pingan.registry.actions import enrol_client


@pytest.mark.django_db(transaction=True)
def test_police_officer_is_refused_clinical_pages_and_the_attempt_is_audited(
    live_server, page, sign_in, users
):
    client = enrol_client(alias="阿强", sex="M", birth_year=1979, user=users["clinician"])
    sign_in(page, users["police"])

    clinical_pages = [
        reverse("registry:detail", kwargs={"external_id": client.external_id}),
        reverse("dosing:client", kwargs={"external_id": client.external_id}),
    ]
    for path in clinical_pages:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 403, path
        body = page.inner_text("main")
        assert client.alias not in body and client.code not in body
        assert AuditEntry.objects.filter(
            action="access_denied", username="police1", role="police", target=path
        ).exists(), f"no access_denied entry for {path}"
