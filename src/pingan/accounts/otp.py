"""The optional second factor (TOTP, RFC 6238) on top of the password.

A user owes the second factor when they have a confirmed device or their manager set
`require_totp`; until they pass it in this session, views treat them as not signed in.
The device secret is shown once as a QR code (inline SVG, no external service sees it) and
in base32 for manual entry.

Who may set up a device, so that a password alone never can:
- at sign-in, a person who owes a code but has no working device enters a one-time
  enrolment code from the centre manager (`EnrolmentCode`); only then is a device made;
- on the profile, a fully signed-in person re-enters the password, and the current code
  when a device is to be replaced.
Either way the unconfirmed device is bound to this session (`SETUP_SESSION_KEY`): a device
started elsewhere can never be confirmed here.
"""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import StaffProfile

SETUP_SESSION_KEY = "pingan_totp_setup"
# Long enough to hand over at the next shift, short enough that a lost slip goes stale.
ENROLMENT_CODE_VALID = timedelta(hours=24)
ENROLMENT_CODE_TRIES = 5
# No 0/O, 1/I: a code read aloud or copied from paper cannot be misread. 12 characters of
# 32 symbols: 60 bits, beyond guessing in five tries.
ENROLMENT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
ENROLMENT_CODE_LENGTH = 12


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


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def remember_setup(request: HttpRequest, device: TOTPDevice) -> None:
    request.session[SETUP_SESSION_KEY] = device.pk


def forget_setup(request: HttpRequest) -> None:
    request.session.pop(SETUP_SESSION_KEY, None)


def setup_device(request: HttpRequest) -> TOTPDevice | None:
    """The unconfirmed device this session started (shown as a QR code until confirmed)."""
    pk = request.session.get(SETUP_SESSION_KEY)
    if not isinstance(pk, int):
        return None
    return TOTPDevice.objects.filter(pk=pk, user=request.user, confirmed=False).first()


def new_enrolment_code() -> str:
    return "".join(secrets.choice(ENROLMENT_ALPHABET) for _ in range(ENROLMENT_CODE_LENGTH))


def normalise_enrolment_code(text: str) -> str:
    """What the person typed, as stored: upper case, without spaces or hyphens."""
    return "".join(c for c in str(text or "").upper() if c not in " -")


def show_enrolment_code(code: str) -> str:
    """In groups of four, as the manager reads it out: `ABCD-EFGH-JKLM`."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode("ascii")


def provisioning_uri(device: TOTPDevice) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code (django-otp's, with the
    issuer from OTP_TOTP_ISSUER)."""
    return device.config_url


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
