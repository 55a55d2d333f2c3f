"""The client's photo on a guest slip file (docs/region.md, "Guests from outside the
installation"): written by the home centre from the client's record, stored by the host on
the local record it makes, so the nurse there recognises the face as for its own clients.

The file carries plain base64 of a JPEG (`photo_jpeg_b64`, empty when there is no photo).
The registry keeps a photo as `<mime>;<base64>` (`registry.actions.set_photo`); a PNG
cannot travel as it is (the format names JPEG, and the server has no image library to
convert it), so its slip is refused with the reason rather than sent without a face.
"""

from __future__ import annotations

import base64
import binascii

from django.utils.translation import gettext as _

from pingan.core.domain import Refusal
from pingan.region import signed
from pingan.registry.models import Client

JPEG_MIME = "image/jpeg"
JPEG_START = b"\xff\xd8\xff"  # start-of-image marker and the next marker's first byte
# What the slip's other fields take at most, besides the photo; the file as a whole must
# stay under `signed.MAX_FILE_BYTES`, which the host checks before parsing.
SLIP_ROOM = 16_000
MAX_PHOTO_B64 = signed.MAX_FILE_BYTES - SLIP_ROOM
# Fewer bytes than this is no face: a JPEG header alone is larger.
MIN_PHOTO_BYTES = 64


def slip_photo(client: Client) -> str:
    """The client's photo as the slip file carries it: base64 of a JPEG, or "" without a
    photo. A refusal (nothing issued) when it is not a JPEG or would make the file larger
    than a host accepts."""
    stored = Client.objects.only("photo").get(pk=client.pk).photo
    if not stored:
        return ""
    mime, _sep, encoded = stored.partition(";")
    if mime != JPEG_MIME:
        raise Refusal(
            _(
                "The client's photo is not a JPEG: a slip file carries a JPEG photo. "
                "Upload the photo again as a JPEG, then issue the slip."
            ),
            code="photo_not_jpeg",
        )
    text = base64.b64encode(base64.b64decode(encoded)).decode("ascii")
    if len(text) > MAX_PHOTO_B64:
        raise Refusal(
            _(
                "The client's photo is too large for a slip file (at most %(kb)d KB). "
                "Upload a smaller photo, then issue the slip."
            )
            % {"kb": MAX_PHOTO_B64 * 3 // 4 // 1024},
            code="photo_too_large",
        )
    return text


def _bad_photo(reason: str) -> Refusal:
    return Refusal(
        _("The slip's photo is refused: %(reason)s") % {"reason": reason}, code="bad_photo"
    )


def stored_photo(text: str) -> str:
    """The slip's `photo_jpeg_b64` as the registry stores a photo (`image/jpeg;<base64>`),
    "" for an empty one; a refusal naming what is wrong with any other."""
    if not text:
        return ""
    if len(text) > MAX_PHOTO_B64:
        raise _bad_photo(_("it is too large."))
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _bad_photo(_("it is not base64.")) from None
    if len(data) < MIN_PHOTO_BYTES or not data.startswith(JPEG_START):
        raise _bad_photo(_("it is not a JPEG image."))
    return f"{JPEG_MIME};{base64.b64encode(data).decode('ascii')}"
