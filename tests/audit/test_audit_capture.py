"""Every write to a Ping An model is captured, with the client code and no identity values."""

from __future__ import annotations

from pingan.audit.models import AuditEntry
from pingan.audit.signals import capture_paused
from pingan.registry import actions
from pingan.registry.actions import IdentityInput
from pingan.registry.models import Client, Identity

NAME = "Capture Secret-Name"
PHONE = "13955556666"


def test_creates_updates_and_deletes_are_captured(users):
    client = actions.enrol_client(
        alias="A",
        sex="M",
        birth_year=1970,
        user=users["clinician"],
        identity=IdentityInput(name=NAME, phone=PHONE),
    )
    creates = AuditEntry.objects.filter(action="create", client_code=client.code)
    targets = {e.target.split(":")[0] for e in creates}
    assert targets == {"registry.client", "registry.episode", "registry.identity"}
    assert f"registry.client:{client.external_id}" in {e.target for e in creates}
    assert all(e.username == "clinician1" for e in creates)

    identity = Identity.objects.get(client=client)
    identity.name = NAME + " Jr"
    identity.save()
    update = AuditEntry.objects.filter(action="update", client_code=client.code).last()
    assert update.target == f"registry.identity:{identity.external_id}"
    assert update.detail == {"fields": ["name"]}

    Client.objects.filter(pk=client.pk).first().save()  # nothing changed: no entry
    assert AuditEntry.objects.filter(action="update").count() == 1

    identity.delete()
    assert AuditEntry.objects.filter(action="delete", client_code=client.code).count() == 1

    everything = " ".join(f"{e.target} {e.detail}" for e in AuditEntry.objects.all())
    for secret in (NAME, PHONE, "+86" + PHONE):
        assert secret not in everything


def test_capture_can_be_paused_for_bulk_loaders(users):
    before = AuditEntry.objects.count()
    with capture_paused():
        Client.objects.create(code="PAZZZZZZ", alias="bulk", sex="M", birth_year=1970)
    assert AuditEntry.objects.count() == before


def test_related_rows_carry_the_client_code(users):
    from pingan.registry.models import Consent

    client = actions.enrol_client(alias="A", sex="F", birth_year=1970, user=users["clinician"])
    consent = Consent.objects.create(client=client, purpose="sms", given_on="2025-01-01")
    entry = AuditEntry.objects.get(
        action="create", target=f"registry.consent:{consent.external_id}"
    )
    assert entry.client_code == client.code


def test_rows_one_hop_from_the_client_carry_its_code(users):
    from pingan.labs.models import UrineResult, UrineSample

    client = actions.enrol_client(alias="A", sex="M", birth_year=1970, user=users["clinician"])
    sample = UrineSample.objects.create(client=client, collected_on="2025-03-01")
    result = UrineResult.objects.create(sample=sample, analyte="opiates", result="negative")
    entry = AuditEntry.objects.get(action="create", target=f"labs.urineresult:{result.pk}")
    assert entry.client_code == client.code
