"""Deterministic ids for aggregates that are unique by a natural key.

An account is unique by its name, a product or bundle by its code, a pipeline
by its name. Deriving the id from the key (UUID v5) makes the event store's
primary key enforce that uniqueness: two concurrent creations of the same
code collide on (id, version 1) and one of them is refused.
"""

from __future__ import annotations

from uuid import UUID, uuid5

_NAMESPACE = UUID("6f1c1a52-6d43-4a4e-9a0e-7c3c1e0b5a10")


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def account_id_for(name: str) -> UUID:
    return uuid5(_NAMESPACE, "account:" + _key(name))


def product_id_for(code: str) -> UUID:
    return uuid5(_NAMESPACE, "product:" + _key(code))


def bundle_id_for(code: str) -> UUID:
    # Bundles share the product code space: a code names one thing you can sell.
    return uuid5(_NAMESPACE, "product:" + _key(code))


def pipeline_id_for(name: str) -> UUID:
    return uuid5(_NAMESPACE, "pipeline:" + _key(name))


EXCHANGE_RATES_ID = uuid5(_NAMESPACE, "exchange-rates")
# The one set of lead-intake rules.
LEAD_ROUTING_ID = uuid5(_NAMESPACE, "lead-routing")


def custom_fields_id_for(entity: str) -> UUID:
    # The custom fields of one entity (opportunity, lead, contact, account) are one
    # aggregate: a command on a record loads its entity's definitions in one read.
    return uuid5(_NAMESPACE, "custom-fields:" + entity)


def custom_field_id_for(entity: str, key: str) -> UUID:
    # One definition, as the read model keys its versions (a key is canonical already).
    return uuid5(_NAMESPACE, f"custom-field:{entity}:{key}")


def user_id_for(login: str) -> UUID:
    # Logins are already canonical (lower case, no spaces): no folding, so two logins
    # never share an id.
    return uuid5(_NAMESPACE, "user:" + login)


def contact_id_for_lead(lead_id: UUID) -> UUID:
    # A lead is qualified once: the contact made from its person has one id, whoever sends
    # the qualification and however often it is retried.
    return uuid5(_NAMESPACE, f"contact-of-lead:{lead_id}")
