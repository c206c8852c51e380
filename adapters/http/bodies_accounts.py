"""Request bodies of the account routes: create, change, merge."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from adapters.http.bodies import (
    PRIVATE,
    PRIVATE_PATCH,
    SHARED_WITH,
    SHARED_WITH_PATCH,
    Body,
    SharedWith,
    example,
)
from adapters.http.fields import (
    City,
    Country,
    Label,
    Login,
    Name,
    Omittable,
    PostalCode,
    Region,
    Street,
    Uuid,
    VatId,
    Website,
)
from commands import reference_data as ref_cmd
from commands.accounts import ChangeAccount, MergeAccount
from domain.account import AccountType, Address


class AddressBody(Body):
    """Each part optional; the country a two-letter ISO 3166-1 code."""

    model_config = example({"street": "Hauptstr. 1", "city": "Berlin", "country": "DE"})
    street: Street | None = None
    city: City | None = None
    postal_code: PostalCode | None = None
    region: Region | None = None
    country: Country | None = None

    def to_address(self) -> Address:
        return Address(**self.model_dump(exclude_none=True))


PARENT = Field(None, description="The account above it (a group's company); no cycle")


class AccountBody(Body):
    model_config = example(
        {
            "name": "ACME GmbH",
            "type": "customer",
            "industry": "Manufacturing",
            "website": "https://acme.example",
            "vat_id": "DE123456789",
            "address": {"city": "Berlin", "country": "DE"},
        }
    )
    name: Name
    partner: bool = False
    type: AccountType | None = None
    industry: Label | None = None
    website: Website | None = None
    vat_id: VatId | None = None
    address: AddressBody | None = None
    parent_id: Uuid | None = PARENT
    owner: Login | None = Field(None, description="A login; default: the caller")
    private: bool = PRIVATE
    shared_with: SharedWith = SHARED_WITH

    def to_command(self) -> ref_cmd.CreateAccount:
        return ref_cmd.CreateAccount(
            name=self.name,
            partner=self.partner,
            owner=self.owner,
            private=self.private,
            shared_with=tuple(self.shared_with),
            type=self.type,
            industry=self.industry,
            website=self.website,
            vat_id=self.vat_id,
            address=None if self.address is None else self.address.to_address(),
            parent_id=self.parent_id,
        )


class AccountPatch(Body):
    """Send only what changes; null clears an optional field. The name does not change (the
    account's id derives from it): merge the account into the one of the new name."""

    model_config = example({"type": "customer", "website": None, "private": True})
    partner: Omittable[bool] = None
    type: AccountType | None = None
    industry: Label | None = None
    website: Website | None = None
    vat_id: VatId | None = None
    address: AddressBody | None = Field(None, description="The whole address as it is to be")
    parent_id: Uuid | None = PARENT
    owner: Omittable[Login] = None
    private: Omittable[bool] = PRIVATE_PATCH
    shared_with: Omittable[SharedWith] = SHARED_WITH_PATCH

    def to_command(self, account_id: UUID) -> ChangeAccount:
        given = self.model_dump(exclude_unset=True)
        if "shared_with" in given:
            given["shared_with"] = tuple(given["shared_with"])
        if self.address is not None:
            given["address"] = self.address.to_address()
        return ChangeAccount(account_id=account_id, **given)


class MergeAccountBody(Body):
    model_config = example({"into": "5f0c4c1e-2d7a-5b8e-9f10-1a2b3c4d5e6f"})
    into: Uuid = Field(description="The account it goes into: its links follow that one")

    def to_command(self, account_id: UUID) -> MergeAccount:
        return MergeAccount(account_id=account_id, into=self.into)
