import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english():
    """Breaks are shown in the reader's language; these tests read them in English."""
    with translation.override("en"):
        yield
