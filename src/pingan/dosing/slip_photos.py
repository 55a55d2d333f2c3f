"""The client's photo on a guest slip file (docs/region.md, "Guests from outside the
installation"): written by the home centre from the client's record, stored by the host on
the local record it makes, so the nurse there recognises the face as for its own clients.

The file carries plain base64 of a JPEG (`photo_jpeg_b64`, empty when there is no photo).
The registry keeps a photo as `<mime>;<base64>` (`registry.actions.set_photo`), JPEG or
PNG. A JPEG travels as it is; a PNG is converted to a JPEG (transparent parts on white),
and a photo too large for the file is made smaller (its longer side at most 1024, 640 or
400 pixels, the first that fits), both with Pillow. A photo that cannot be read as an
image refuses the slip with the reason rather than sending it without a face.
"""

from __future__ import annotations

import base64
import binascii
import io

from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

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


PNG_MIME = "image/png"
# The longer side, in pixels, of the smaller photos tried in turn when one is too large.
SMALLER_SIDES = (1024, 640, 400)
JPEG_QUALITY = 85


def slip_photo(client: Client) -> str:
    """The client's photo as the slip file carries it: base64 of a JPEG, or "" without a
    photo. A PNG is converted and a photo too large for the file made smaller; a refusal
    (nothing issued) when the photo cannot be read as an image or cannot be made small
    enough."""
    stored = Client.objects.only("photo").get(pk=client.pk).photo
    if not stored:
        return ""
    mime, _sep, encoded = stored.partition(";")
    data = base64.b64decode(encoded)
    if mime == PNG_MIME:
        data = _as_jpeg(_opened(data))
    elif mime != JPEG_MIME:
        raise _unreadable()
    text = base64.b64encode(data).decode("ascii")
    if len(text) > MAX_PHOTO_B64:
        text = _smaller(data)
    return text


def _unreadable() -> Refusal:
    return Refusal(
        _(
            "The client's photo cannot be read as a JPEG or PNG image. "
            "Upload the photo again, then issue the slip."
        ),
        code="photo_unreadable",
    )


def _opened(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise _unreadable() from None
    return image


def _as_jpeg(image: Image.Image, side: int | None = None) -> bytes:
    """The image as a JPEG: transparent parts on white, at most `side` pixels long."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    else:
        image = image.convert("RGB")
    if side is not None:
        image.thumbnail((side, side))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def _smaller(data: bytes) -> str:
    """A photo too large for the file, made smaller until it fits; a refusal if it
    cannot be read or does not fit even at the smallest size."""
    too_large = Refusal(
        _(
            "The client's photo is too large for a slip file (at most %(kb)d KB). "
            "Upload a smaller photo, then issue the slip."
        )
        % {"kb": MAX_PHOTO_B64 * 3 // 4 // 1024},
        code="photo_too_large",
    )
    try:
        image = _opened(data)
    except Refusal:
        raise too_large from None
    for side in SMALLER_SIDES:
        text = base64.b64encode(_as_jpeg(image, side)).decode("ascii")
        if len(text) <= MAX_PHOTO_B64:
            return text
    raise too_large


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
