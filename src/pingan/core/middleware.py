"""Bad input answered once for every screen: 400 with a page in the reader's language, never
a server error, whichever database is underneath."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DataError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


def _has_nul(request: HttpRequest) -> bool:
    return "\x00" in request.path or any(
        "\x00" in key or any("\x00" in value for value in values)
        for key, values in request.GET.lists()
    )


def _bad_request(reason: str = "") -> HttpResponse:
    return HttpResponse(loader.get_template("400.html").render({"reason": reason}), status=400)


class BadInputMiddleware:
    """Two kinds of input that SQLite takes and PostgreSQL refuses, so that a screen tested
    on one database failed with a server error on the other:

    - a NUL character in the path or the query string. No one types NUL, and PostgreSQL
      refuses it in any text it compares ("text fields cannot contain NUL"); views read
      query strings as they come (searches, filters), so they are checked here, before any
      view. (Django's form fields refuse NUL themselves, with a form error.)
    - a value the database cannot store (DataError: NUL in a note, a label longer than its
      column, a number past its digits), which SQLite stores as given. The action's
      transaction has rolled back, so nothing was written; the page says what to check.
      Logged, so the form that let the value through can be given a limit of its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            return _bad_request()
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, DataError):
            return None
        logger.warning("unstorable input on %s %s: %s", request.method, request.path, exception)
        return _bad_request(
            _(
                "Nothing was saved: a value is too long, out of range, or holds a character "
                "that cannot be stored."
            )
        )
