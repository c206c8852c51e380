"""Accounts: the customers (and partners) opportunities are sold to.

An account is unique by its name (its id derives from it, see ``domain.ids``), so its
name never changes: to rename one, create the account of the new name and merge the old
one into it. Accounts are seen by everyone who works, unless made private
(``domain.sharing``): then only by their owner (who made it, by default), those it is
shared with, and the reading roles.

Rules this module keeps:
- the details are tidy: a type of ``ACCOUNT_TYPES``, a website that is an http(s) URL, a
  VAT id and an industry as trimmed text, an address of a few parts whose country is two
  letters (ISO 3166-1 alpha-2, kept upper case);
- a parent is another account, and no account is above itself (no cycle of parents);
- a change writes only what differs; a change that changes nothing writes nothing;
- a merged account is closed: it says which account it went into, and nothing changes
  it any more; no account is merged into itself, into a merged account, or into one
  below it (that one's parents would come back to it);
- the links of a merged account (its deals, contacts, leads, contracts, child accounts)
  follow the survivor: commands that name it are sent on to the survivor, and the read
  models count and list them under it (``readmodels.accounts``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar, Literal
from uuid import UUID

import msgspec

from domain import limits
from domain.aggregate import AggregateState, Event, evolve
from domain.errors import InvalidInput, RuleViolated
from domain.personal_data import tidy_text

AccountType = Literal["prospect", "customer", "partner", "supplier"]
ACCOUNT_TYPES: tuple[AccountType, ...] = ("prospect", "customer", "partner", "supplier")
# An http(s) URL: the scheme, a host, then anything but whitespace.
WEBSITE = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#]+\S*")
COUNTRY = re.compile(r"[A-Za-z]{2}")
# The most characters of each part of an address but its country.
ADDRESS_LIMITS = {
    "street": limits.STREET,
    "city": limits.CITY,
    "postal_code": limits.POSTAL_CODE,
    "region": limits.REGION,
}

Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class Address(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Where the account is: each part optional, text trimmed."""

    street: str | None = None
    city: str | None = None
    postal_code: str | None = None
    region: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2, upper case


class Details(msgspec.Struct, frozen=True, kw_only=True):
    """What may change on an account (all but its name), each as it is."""

    partner: bool = False
    type: AccountType | None = None
    industry: str | None = None
    website: str | None = None
    vat_id: str | None = None
    address: Address | None = None
    parent_id: UUID | None = None
    owner: str | None = None


class Account(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "account"
    name: str
    partner: bool = False
    type: AccountType | None = None
    industry: str | None = None
    website: str | None = None
    vat_id: str | None = None
    address: Address | None = None
    parent_id: UUID | None = None
    owner: str | None = None
    private: bool = False
    shared_with: tuple[str, ...] = ()
    # Set once merged: the account its links follow from then on.
    merged_into: UUID | None = None
    # The accounts merged into this one, in the order they were.
    absorbed: tuple[UUID, ...] = ()

    @property
    def details(self) -> Details:
        return Details(**{name: getattr(self, name) for name in Details.__struct_fields__})


class AccountCreated(Event[Account], frozen=True, kw_only=True):
    name: str
    partner: bool = False
    owner: str | None = None
    type: AccountType | None = None
    industry: str | None = None
    website: str | None = None
    vat_id: str | None = None
    address: Address | None = None
    parent_id: UUID | None = None

    def apply(self, state: Account | None) -> Account:
        return Account(
            id=self.originator_id,
            name=self.name,
            partner=self.partner,
            owner=self.owner,
            type=self.type,
            industry=self.industry,
            website=self.website,
            vat_id=self.vat_id,
            address=self.address,
            parent_id=self.parent_id,
        )


class AccountChanged(Event[Account], frozen=True, kw_only=True):
    """The details (all but the name and the sharing), each as it is now."""

    partner: bool
    type: AccountType | None
    industry: str | None
    website: str | None
    vat_id: str | None
    address: Address | None
    parent_id: UUID | None
    owner: str | None

    def apply(self, state: Account) -> Account:
        return evolve(state, **{name: getattr(self, name) for name in Details.__struct_fields__})


class AccountSharingChanged(Event[Account], frozen=True, kw_only=True):
    """Made private or public, or shared with other users (``domain.sharing``)."""

    private: bool
    shared_with: tuple[str, ...]

    def apply(self, state: Account) -> Account:
        return evolve(state, private=self.private, shared_with=self.shared_with)


class AccountMerged(Event[Account], frozen=True, kw_only=True):
    """This account went into ``into``: its links follow that one from now on."""

    into: UUID

    def apply(self, state: Account) -> Account:
        return evolve(state, merged_into=self.into)


class AccountAbsorbed(Event[Account], frozen=True, kw_only=True):
    """``merged`` went into this account (saved with that one's ``AccountMerged``)."""

    merged: UUID

    def apply(self, state: Account) -> Account:
        return evolve(state, absorbed=(*state.absorbed, self.merged))


AccountEvent = (
    AccountCreated | AccountChanged | AccountSharingChanged | AccountMerged | AccountAbsorbed
)


# --- the details -------------------------------------------------------------------------


def check_website(website: str | None) -> str | None:
    website = tidy_text(website)
    if website is None:
        return None
    if len(website) > limits.URL or not WEBSITE.fullmatch(website):
        raise InvalidInput(
            f"the website must be an http or https URL of at most {limits.URL} characters, "
            "such as https://example.com."
        )
    return website


def check_address(address: Address | None) -> Address | None:
    """The address as kept: each part trimmed, the country upper case; None when empty."""
    if address is None:
        return None
    parts = {name: tidy_text(getattr(address, name)) for name in Address.__struct_fields__}
    for name, most in ADDRESS_LIMITS.items():
        value = parts[name]
        if value is not None and len(value) > most:
            raise InvalidInput(f"the address's {name} has more than {most} characters.")
    country = parts["country"]
    if country is not None:
        if not COUNTRY.fullmatch(country):
            raise InvalidInput(
                "the address's country is a two-letter ISO 3166-1 code, such as DE or FR."
            )
        parts["country"] = country.upper()
    checked = Address(**parts)
    return None if checked == Address() else checked


def _checked(details: Details) -> Details:
    if details.type is not None and details.type not in ACCOUNT_TYPES:
        raise InvalidInput(f"an account's type is one of {', '.join(ACCOUNT_TYPES)}.")
    industry, vat_id = tidy_text(details.industry), tidy_text(details.vat_id)
    for what, value, most in (
        ("industry", industry, limits.LABEL),
        ("VAT id", vat_id, limits.VAT_ID),
    ):
        if value is not None and len(value) > most:
            raise InvalidInput(f"the {what} has more than {most} characters.")
    return msgspec.structs.replace(
        details,
        industry=industry,
        website=check_website(details.website),
        vat_id=vat_id,
        address=check_address(details.address),
        owner=tidy_text(details.owner),
    )


def check_parent(
    account_id: UUID, parent_id: UUID | None, parents_of_parent: Sequence[UUID]
) -> None:
    """``parent_id`` may be the parent of ``account_id``: not itself, and not one below it
    (``parents_of_parent``: the parent's own parents, up to the top)."""
    if parent_id is None:
        return
    if parent_id == account_id:
        raise RuleViolated("an account cannot be its own parent.")
    if account_id in parents_of_parent:
        raise RuleViolated(
            f"account {parent_id} is below account {account_id}; "
            "it cannot be its parent (no cycle of parents)."
        )


def ensure_open(account: Account) -> None:
    if account.merged_into is not None:
        raise RuleViolated(
            f"account {account.id} was merged into account {account.merged_into}; "
            "change that one instead."
        )


# --- decisions ---------------------------------------------------------------------------


def create(
    name: str,
    *,
    partner: bool = False,
    owner: str | None = None,
    details: Details | None = None,
) -> list[AccountEvent]:
    """``details`` (its ``partner`` and ``owner`` aside, given apart): the new account's;
    the caller checked its parent with ``check_parent``."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("an account needs a name.")
    checked = _checked(details or Details())
    return [
        AccountCreated(
            name=name,
            partner=partner,
            owner=owner,
            type=checked.type,
            industry=checked.industry,
            website=checked.website,
            vat_id=checked.vat_id,
            address=checked.address,
            parent_id=checked.parent_id,
        )
    ]


def change(account: Account, details: Details) -> list[AccountEvent]:
    """The details as they are to be (the caller checked the parent with ``check_parent``);
    nothing when they are as they are."""
    ensure_open(account)
    checked = _checked(details)
    if checked == account.details:
        return []
    return [AccountChanged(**msgspec.structs.asdict(checked))]


def merge(
    account: Account, into: Account, parents_of_into: Sequence[UUID]
) -> dict[UUID, list[AccountEvent]]:
    """``account`` goes into ``into`` (``parents_of_into``: its parents up to the top): one
    event on each, saved together."""
    ensure_open(account)
    if into.id == account.id:
        raise RuleViolated("an account cannot be merged into itself.")
    if into.merged_into is not None:
        raise RuleViolated(
            f"account {into.id} was merged into account {into.merged_into}; "
            "merge into that one instead."
        )
    if account.id in parents_of_into:
        raise RuleViolated(
            f"account {into.id} is below account {account.id}; "
            "an account cannot be merged into one below it."
        )
    return {
        account.id: [AccountMerged(into=into.id)],
        into.id: [AccountAbsorbed(merged=account.id)],
    }
