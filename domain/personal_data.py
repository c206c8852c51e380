"""Personal data: what it is, how it is marked on events, and how contacts are compared.

An event that carries personal data names those fields in ``personal_fields``
and has a ``sealed`` field. The event store never stores the named fields as
they are: it encrypts them together under the data subject's own key (the
lead's) into ``sealed`` and stores the fields as null. Reading the event back
with the key restores them; once the key is destroyed (anonymize) they stay
null everywhere the event went, since every copy holds only ``sealed``.

Duplicate detection compares contacts in a normal form: e-mail trimmed and
lower-cased; phone as digits with the country code (E.164, "+4930123456"),
numbers written without one taking the configured default region's.
"""

from __future__ import annotations

import hashlib
import re
from typing import ClassVar

import msgspec
import phonenumbers

from domain.aggregate import Event, S
from domain.errors import InvalidInput
from domain.events import DomainEvent


class PersonalData(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A person's details on a lead. ``extra``: further fields an intake tool sent."""

    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    notes: str | None = None
    extra: dict[str, str] = {}


class PersonalEvent(Event[S], frozen=True, kw_only=True):
    """An event with personal data: ``personal_fields`` are stored only inside ``sealed``.

    Every named field must accept None: that is what it reads once erased (or
    when read without the key, as the projectors do).
    """

    # The stored ciphertext of the personal fields (None until the store sealed them).
    sealed: str | None = None

    personal_fields: ClassVar[tuple[str, ...]] = ()
    abstract: ClassVar[bool] = True


def personal_fields_of(cls: type[DomainEvent]) -> tuple[str, ...]:
    fields: tuple[str, ...] = getattr(cls, "personal_fields", ())
    return fields


def shows_personal_data(event: DomainEvent) -> bool:
    """Whether ``event`` holds personal data in the clear (opened with its subject's key;
    null once the key is gone)."""
    return any(getattr(event, name) is not None for name in personal_fields_of(type(event)))


def tidy_text(value: str | None) -> str | None:
    """Text as kept: inner whitespace collapsed, trimmed; None when blank."""
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


def check_email(email: str | None) -> str | None:
    """The address as kept (inner whitespace collapsed, trimmed; None when blank), if it
    looks like one: an @ and no spaces."""
    if email is None:
        return None
    email = " ".join(email.split())
    if not email:
        return None
    if "@" not in email or " " in email:
        # Not echoed: refusals are logged, and logs must not carry personal data.
        raise InvalidInput("the e-mail address is not valid (it needs an @ and no spaces).")
    return email


# --- contacts in normal form -----------------------------------------------------------

_DIGITS = re.compile(r"\D+")


def normal_email(email: str | None) -> str | None:
    if email is None:
        return None
    email = email.strip().lower()
    return email or None


def normal_phone(phone: str | None, default_region: str = "DE") -> str | None:
    """The number in E.164 form; digits only when it cannot be parsed as a phone number.

    Applied until it stops changing: "+49 (0) 030 …" parses to "+490301…" first, whose
    own normal form drops the redundant trunk zero.
    """
    if phone is None:
        return None
    normal = _normal_phone_once(phone, default_region)
    for _ in range(3):
        if normal is None:
            return None
        again = _normal_phone_once(normal, default_region)
        if again == normal:
            break
        normal = again
    return normal


def _normal_phone_once(phone: str, default_region: str) -> str | None:
    digits = _DIGITS.sub("", phone)
    if not digits:
        return None
    try:
        number = phonenumbers.parse(phone, default_region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    international = digits.removeprefix("00") if not phone.strip().startswith("+") else digits
    if phone.strip().startswith(("+", "00")) and international:
        return "+" + international
    return digits


def contact_digests(email: str | None, phone: str | None, default_region: str) -> list[str]:
    """What duplicate detection looks up: a SHA-256 per normal contact, never the contact.

    The index holding them is emptied for a lead when it is anonymized.
    """
    digests = []
    if (e := normal_email(email)) is not None:
        digests.append(hashlib.sha256(b"email:" + e.encode()).hexdigest())
    if (p := normal_phone(phone, default_region)) is not None:
        digests.append(hashlib.sha256(b"phone:" + p.encode()).hexdigest())
    return digests
