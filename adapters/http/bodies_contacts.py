"""Request bodies of the contact routes."""

from __future__ import annotations

from uuid import UUID, uuid4

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
from adapters.http.fields import CustomValues, Email, Login, Name, Omittable, Phone, ShortText, Uuid
from commands.contacts import ChangeContact, CreateContact

OWNER = Field(None, description="A user; by default the one making it")


class ContactBody(Body):
    model_config = example(
        {
            "first_name": "Jane",
            "last_name": "Doe",
            "email": "jane.doe@example.com",
            "phone": "+49 30 1234567",
            "title": "Head of Purchasing",
            "account_id": "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
        }
    )
    first_name: ShortText = Field(description="May be blank")
    last_name: Name
    email: Email | None = None
    phone: Phone | None = None
    title: ShortText | None = None
    account_id: Uuid | None = Field(None, description="An existing account")
    owner: Login | None = OWNER
    private: bool = PRIVATE
    shared_with: SharedWith = SHARED_WITH
    custom: CustomValues = {}

    def to_command(self) -> CreateContact:
        return CreateContact(
            contact_id=uuid4(),
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            phone=self.phone,
            title=self.title,
            account_id=self.account_id,
            owner=self.owner,
            private=self.private,
            shared_with=tuple(self.shared_with),
            custom=self.custom,
        )


class ContactPatch(Body):
    """Send only what changes; null clears an optional field."""

    model_config = example({"title": "Chief Procurement Officer", "phone": None})

    first_name: Omittable[ShortText] = None
    last_name: Omittable[Name] = None
    email: Email | None = None
    phone: Phone | None = None
    title: ShortText | None = None
    account_id: Uuid | None = None
    owner: Omittable[Login] = None
    private: Omittable[bool] = PRIVATE_PATCH
    shared_with: Omittable[SharedWith] = SHARED_WITH_PATCH
    custom: Omittable[CustomValues] = None

    def to_command(self, contact_id: UUID) -> ChangeContact:
        given = self.model_dump(exclude_unset=True)
        if "shared_with" in given:
            given["shared_with"] = tuple(given["shared_with"])
        return ChangeContact(contact_id=contact_id, **given)
