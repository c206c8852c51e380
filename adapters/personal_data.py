"""Personal data encrypted at rest under a key per data subject (crypto-shredding).

Events that carry personal data (``domain.personal_data.PersonalEvent``) are
stored with those fields null and their values in ``sealed``: AES-256-GCM
(``cryptography``) under the subject's data key, with the subject's id as
associated data so a sealed value cannot be moved to another lead. The keys
live in the key store table beside the events; a subject's key is made in
the same transaction as its first sealed event and destroyed in the same
transaction as its ``LeadAnonymized``. Without the key, every copy of the
event, wherever it went (read models, Kafka), reads null.

The fingerprint of an idempotent request that wrote to a data subject (an
intake, an edit: its body may hold their e-mail) is kept keyed by that
subject's data key (``keyed_fingerprint``), never as the plain SHA-256 of the
request: a plain hash of an e-mail address is easy to guess back, and it would
outlive the anonymize. Once the key is destroyed the keyed one cannot even be
checked against a guess.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any, Protocol, TypeVar
from uuid import UUID

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.events import DomainEvent
from domain.personal_data import personal_fields_of

E = TypeVar("E", bound=DomainEvent)
_NONCE = 12


class KeyStore(Protocol):
    def data_keys(self, subjects: Collection[UUID]) -> dict[UUID, bytes]:
        """The keys of those subjects that have one (not yet erased)."""


class MissingDataKey(Exception):
    """A sealed event was to be saved for a subject with no key (erased, or none given)."""


def seal_bytes(key: bytes, subject: UUID, plaintext: bytes) -> str:
    nonce = os.urandom(_NONCE)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext, subject.bytes)).decode()


def open_bytes(key: bytes, subject: UUID, sealed: str) -> bytes | None:
    """The plaintext; None when the value was not sealed for this subject under this key."""
    raw = base64.b64decode(sealed)
    try:
        return AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], subject.bytes)
    except InvalidTag:
        return None


# --- fingerprints of requests that concern data subjects ---------------------------------

KEYED_FINGERPRINT = "hmac-sha256"


def keyed_fingerprint(fingerprint: str, keys: Mapping[UUID, bytes]) -> str:
    """``fingerprint`` keyed by the data keys of the subjects the request concerns:
    ``hmac-sha256:<subject id>[,<subject id>…]:<hex>``, an HMAC-SHA256 under each key in
    turn (subject ids in order), so it can be computed, or checked, only while every one
    of those keys exists. Without keys, the fingerprint as it is."""
    if not keys:
        return fingerprint
    subjects = sorted(keys)
    digest = fingerprint.encode()
    for subject in subjects:
        digest = hmac.new(keys[subject], digest, hashlib.sha256).digest()
    return f"{KEYED_FINGERPRINT}:{','.join(map(str, subjects))}:{digest.hex()}"


def fingerprint_subjects(stored: str) -> list[UUID]:
    """The data subjects a stored fingerprint is keyed by; none for a plain one."""
    scheme, _, rest = stored.partition(":")
    ids, _, digest = rest.partition(":")
    if scheme != KEYED_FINGERPRINT or not digest:
        return []
    try:
        return [UUID(subject) for subject in ids.split(",")]
    except ValueError:
        return []


def same_fingerprint(stored: str, fingerprint: str, keys: Mapping[UUID, bytes]) -> bool | None:
    """Whether the plain ``fingerprint`` of a request is the one ``stored``; None when that
    cannot be told: a key the stored one was keyed with is gone (its subject erased)."""
    subjects = fingerprint_subjects(stored)
    if any(subject not in keys for subject in subjects):
        return None
    expected = keyed_fingerprint(fingerprint, {s: keys[s] for s in subjects})
    return hmac.compare_digest(stored.encode(), expected.encode())


@cache
def _part_type(cls: type[DomainEvent]) -> type[msgspec.Struct]:
    """A Struct of just the personal fields of ``cls``, for their sealed JSON."""
    types = {f.name: f.type for f in msgspec.structs.fields(cls)}
    return msgspec.defstruct(
        f"{cls.__name__}Personal",
        [(name, types[name], None) for name in personal_fields_of(cls)],
        frozen=True,
        kw_only=True,
    )


_encoder = msgspec.json.Encoder()


class PersonalDataVault:
    """Seals events on their way into the store and opens them on their way out."""

    def __init__(self) -> None:
        self.keys: KeyStore | None = None
        self._sealing: ContextVar[dict[UUID, bytes] | None] = ContextVar("sealing", default=None)
        self._reading: ContextVar[dict[UUID, bytes | None] | None] = ContextVar(
            "reading", default=None
        )

    # --- saving ---------------------------------------------------------------------

    @contextmanager
    def sealing(self, events: Collection[DomainEvent]) -> Iterator[dict[UUID, bytes]]:
        """Keys for the subjects of ``events`` while they are saved; yields the new keys,
        which the save must insert in its transaction."""
        subjects = {e.originator_id for e in events if personal_fields_of(type(e))}
        if not subjects:
            yield {}
            return
        assert self.keys is not None
        keys = self.keys.data_keys(subjects)
        new = {s: AESGCM.generate_key(bit_length=256) for s in subjects - keys.keys()}
        token = self._sealing.set({**keys, **new})
        try:
            yield new
        finally:
            self._sealing.reset(token)

    def subject_keys(self, subjects: Collection[UUID]) -> dict[UUID, bytes]:
        """The data keys of those of ``subjects`` that are data subjects: the keys of the
        save being sealed (new ones included), else those in the key store."""
        sealing = self._sealing.get() or {}
        found = {s: sealing[s] for s in subjects if s in sealing}
        others = set(subjects) - found.keys()
        if others:
            assert self.keys is not None
            found.update(self.keys.data_keys(others))
        return found

    def seal(self, event: E) -> E:
        fields = personal_fields_of(type(event))
        if not fields:
            return event
        keys = self._sealing.get()
        key = None if keys is None else keys.get(event.originator_id)
        if key is None:
            raise MissingDataKey(f"no data key for {event.originator_id} to seal its event with")
        part = _part_type(type(event))(**{f: getattr(event, f) for f in fields})
        sealed = seal_bytes(key, event.originator_id, _encoder.encode(part))
        return msgspec.structs.replace(
            event,
            **{f: None for f in fields},
            sealed=sealed,
        )

    # --- reading --------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Look each subject's key up once for the duration (one aggregate's history)."""
        token = self._reading.set({})
        try:
            yield
        finally:
            self._reading.reset(token)

    def _key(self, subject: UUID) -> bytes | None:
        memo = self._reading.get()
        if memo is not None and subject in memo:
            return memo[subject]
        assert self.keys is not None
        key = self.keys.data_keys([subject]).get(subject)
        if memo is not None:
            memo[subject] = key
        return key

    def reveal(self, event: E) -> E:
        """The event with its personal fields, or as it is (null) when the key is gone."""
        sealed: str | None = getattr(event, "sealed", None)
        if sealed is None:
            return event
        key = self._key(event.originator_id)
        values = None if key is None else _opened(key, event.originator_id, sealed, type(event))
        return event if values is None else msgspec.structs.replace(event, **values)

    def open_values(
        self, sealed: Collection[tuple[UUID, str, type[DomainEvent]]]
    ) -> list[dict[str, Any] | None]:
        """Open copies of sealed values (read-model rows): each subject's key looked up
        once; None where the key is gone."""
        assert self.keys is not None
        keys = self.keys.data_keys({s for s, _, _ in sealed})
        return [
            None if (key := keys.get(subject)) is None else _opened(key, subject, value, cls)
            for subject, value, cls in sealed
        ]


def _opened(
    key: bytes, subject: UUID, sealed: str, cls: type[DomainEvent]
) -> dict[str, Any] | None:
    """The personal fields of a ``cls`` event sealed for ``subject``; None if not sealed
    under this key."""
    plain = open_bytes(key, subject, sealed)
    if plain is None:
        return None
    values: dict[str, Any] = msgspec.structs.asdict(
        msgspec.json.decode(plain, type=_part_type(cls))
    )
    return values
