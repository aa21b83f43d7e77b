"""Customer contact details: phone numbers to E.164, e-mail addresses checked."""

from __future__ import annotations

import re

import phonenumbers

from switchboard.domain.errors import ValidationError

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def to_e164(phone: str, *, region: str | None = None, field: str = "phone") -> str:
    """``phone`` in E.164 (``+14155550100``). A number without ``+`` needs ``region``
    (ISO 3166 code such as ``GB``). Raises :class:`ValidationError` when it is not
    a possible number."""
    if not isinstance(phone, str) or not phone.strip():
        raise ValidationError("must be a phone number", field=field)
    try:
        parsed = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            f"{phone!r} is not a phone number; use E.164 such as +14155550100", field=field
        ) from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValidationError(f"{phone!r} is not a possible phone number", field=field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def check_email(email: str, *, field: str = "email") -> str:
    """The address, trimmed; :class:`ValidationError` unless it looks like ``a@b.c``."""
    if not isinstance(email, str) or not _EMAIL.match(email.strip()) or len(email) > 320:
        raise ValidationError(f"{email!r} is not an e-mail address", field=field)
    return email.strip()
