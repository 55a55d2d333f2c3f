"""A stored value that no configured field key opens (a restore onto a server missing a
key, a key dropped too early) is the operator's mistake to name, not a bug to hide: the
page answers 503, names the key id, and shows nothing of the record."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client as Browser

from pingan.core.crypto import Keyring, generate_key
from pingan.registry.models import Client, Identity


@pytest.mark.django_db
def test_identity_under_a_key_this_server_lacks_is_a_503_naming_the_key(users):
    stray = Keyring((generate_key(),))
    client = Client.objects.create(code="KEY-1", alias="钥", sex="M", birth_year=1980)
    Identity.objects.create(client=client)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Identity._meta.db_table} SET name = %s WHERE client_id = %s",
            [stray.encrypt("Zhang San"), client.pk],
        )
    browser = Browser(raise_request_exception=False)
    browser.force_login(users["clinician"], backend="django.contrib.auth.backends.ModelBackend")

    response = browser.post(f"/clients/{client.external_id}/identity/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 503
    page = response.content.decode()
    assert stray.current_id in page
    assert "An encryption key is missing" in page
    assert "Zhang San" not in page and "Traceback" not in page
    chinese = browser.post(f"/clients/{client.external_id}/identity/").content.decode()
    assert stray.current_id in chinese and "加密密钥" in chinese
