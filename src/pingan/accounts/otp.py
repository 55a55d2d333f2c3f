"""The optional second factor (TOTP, RFC 6238) on top of the password.

A user owes the second factor when they have a confirmed device or their manager set
`require_totp`; until they pass it in this session, views treat them as not signed in.
The device secret is shown once as a QR code (inline SVG, no external service sees it) and
in base32 for manual entry."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pyotp
import qrcode
import qrcode.image.svg
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import StaffProfile

ISSUER = "Ping An"


def has_confirmed_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_required(user) -> bool:
    """True when this user must pass a TOTP code after the password."""
    if has_confirmed_device(user):
        return True
    return StaffProfile.objects.filter(user=user, require_totp=True).exists()


def second_factor_pending(user) -> bool:
    """Signed in with the password, but the second factor is still owed this session."""
    if not user.is_authenticated:
        return False
    verified = getattr(user, "is_verified", None)
    if verified is not None and verified():
        return False
    return second_factor_required(user)


def redirect_to_verify(request: HttpRequest) -> HttpResponseRedirect:
    query = urlencode({"next": request.get_full_path()})
    return HttpResponseRedirect(f"{reverse('accounts:verify')}?{query}")


def pending_device(user) -> TOTPDevice | None:
    """The device being set up (shown as a QR code until confirmed with a code)."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode("ascii")


def provisioning_uri(device: TOTPDevice) -> str:
    return pyotp.TOTP(secret_base32(device)).provisioning_uri(
        name=device.user.get_username(), issuer_name=ISSUER
    )


def qr_svg(device: TOTPDevice) -> str:
    """The provisioning URI as an inline SVG QR code."""
    image = qrcode.make(
        provisioning_uri(device), image_factory=qrcode.image.svg.SvgPathImage, box_size=8
    )
    return image.to_string(encoding="unicode")


def check_code(device: TOTPDevice, code: str) -> bool:
    """A 6-digit code from the app; django-otp refuses reuse of a code and throttles guessing."""
    code = (code or "").strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return False
    return bool(device.verify_token(code))
