"""The standards page speaks the reader's language, the shipped default's note included."""

import pytest
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_kept():
    """Choosing English on the site leaves it active in this thread: each test here gives the
    next one the language it found."""
    with translation.override(translation.get_language()):
        yield


def test_shipped_default_is_described_in_chinese(client_as):
    html = client_as("cdc").get(reverse("takehome:standards")).content.decode()
    assert "出厂默认：在疾控和公安双方签署的新版本取代之前有效。" in html
    assert "Shipped default" not in html  # the stored English note is not shown
    assert "DESIGN.md" not in html


def test_shipped_default_is_described_in_english(client_as):
    web = client_as("police")
    web.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = web.get(reverse("takehome:standards")).content.decode()
    assert html.count("Shipped default") == 1
