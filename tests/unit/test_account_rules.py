"""Account: Given / When / Then against events for every rule of domain/account.py —
its details, its parent, its changes and its merge."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
import pytest

from domain import account as rules
from domain.account import (
    Account,
    AccountAbsorbed,
    AccountChanged,
    AccountCreated,
    AccountMerged,
    Address,
    Details,
)
from domain.errors import InvalidInput, RuleViolated
from tests.gwt import given

ACME = UUID("00000000-0000-4000-8000-0000000acc01")
GLOBEX = UUID("00000000-0000-4000-8000-0000000acc02")
HOLDING = UUID("00000000-0000-4000-8000-0000000acc03")


def created(name: str = "ACME", **details: Any) -> AccountCreated:
    (event,) = rules.create(name, owner="alice", details=Details(**details))
    assert isinstance(event, AccountCreated)
    return event


def with_(found: Account, **changes: Any) -> Account:
    return msgspec.structs.replace(found, **changes)


def replaced(details: Details, **changes: Any) -> Details:
    return msgspec.structs.replace(details, **changes)


def test_an_account_is_created_with_its_details_tidy() -> None:
    (event,) = rules.create(
        "  ACME   GmbH ",
        owner="alice",
        details=Details(
            type="customer",
            industry="  Heavy   industry ",
            website=" https://acme.example/about ",
            vat_id=" DE 123 456 789 ",
            address=Address(street=" Hauptstr.  1 ", city="Berlin", country="de"),
            parent_id=HOLDING,
        ),
    )
    assert event == AccountCreated(
        name="ACME GmbH",
        owner="alice",
        type="customer",
        industry="Heavy industry",
        website="https://acme.example/about",
        vat_id="DE 123 456 789",
        address=Address(street="Hauptstr. 1", city="Berlin", country="DE"),
        parent_id=HOLDING,
    )
    account = given(event).state
    assert (account.type, account.address.country, account.parent_id) == (
        "customer",
        "DE",
        HOLDING,
    )


def test_an_empty_address_and_blank_texts_are_kept_as_none() -> None:
    (event,) = rules.create(
        "ACME", details=Details(address=Address(city="  "), vat_id=" ", website="")
    )
    assert isinstance(event, AccountCreated)
    assert (event.address, event.vat_id, event.website) == (None, None, None)


@pytest.mark.parametrize(
    ("details", "says"),
    [
        (Details(website="ftp://acme.example"), "the website must be an http or https URL"),
        (Details(website="https://"), "the website must be an http or https URL"),
        (Details(website="acme.example"), "the website must be an http or https URL"),
        (Details(website="https://acme example"), "the website must be an http or https URL"),
        (Details(address=Address(country="Germany")), "two-letter ISO 3166-1 code"),
        (Details(address=Address(postal_code="1" * 21)), "postal_code has more than 20"),
        (Details(vat_id="X" * 33), "the VAT id has more than 32 characters."),
        (Details(type="reseller"), "an account's type is one of prospect, customer"),  # type: ignore[arg-type]
    ],
)
def test_details_that_are_not_tidy_are_refused(details: Details, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        rules.create("ACME", details=details)


def test_an_account_needs_a_name() -> None:
    with pytest.raises(InvalidInput, match="an account needs a name"):
        rules.create("   ")


def test_a_change_records_every_detail_as_it_is_now() -> None:
    given(created(type="prospect", industry="Retail")).when(
        lambda a: rules.change(
            a, replaced(a.details, type="customer", website="http://acme.example")
        )
    ).then(
        AccountChanged(
            partner=False,
            type="customer",
            industry="Retail",
            website="http://acme.example",
            vat_id=None,
            address=None,
            parent_id=None,
            owner="alice",
        )
    )


def test_a_change_that_changes_nothing_writes_nothing() -> None:
    given(created(industry="Retail")).when(
        lambda a: rules.change(a, replaced(a.details, industry="  Retail "))
    ).then()


def test_a_change_with_bad_details_is_refused() -> None:
    given(created()).when(
        lambda a: rules.change(a, replaced(a.details, website="mailto:x@y"))
    ).then_raises(InvalidInput, "the website must be an http or https URL")


def test_an_account_is_not_its_own_parent_nor_below_itself() -> None:
    with pytest.raises(RuleViolated, match="an account cannot be its own parent"):
        rules.check_parent(ACME, ACME, [])
    # ACME is above GLOBEX: GLOBEX cannot become ACME's parent
    with pytest.raises(RuleViolated, match="no cycle of parents"):
        rules.check_parent(ACME, GLOBEX, [HOLDING, ACME])
    rules.check_parent(ACME, GLOBEX, [HOLDING])  # no cycle: allowed
    rules.check_parent(ACME, None, [])


def _two() -> tuple[Account, Account]:
    acme = with_(given(created("ACME")).state, id=ACME)
    globex = with_(given(created("Globex")).state, id=GLOBEX)
    return acme, globex


def test_a_merge_closes_the_merged_account_and_records_it_on_the_survivor() -> None:
    globex = _two()[1]
    given(created("ACME")).when(lambda a: rules.merge(with_(a, id=ACME), globex, [])).then_changes(
        {ACME: [AccountMerged(into=GLOBEX)], GLOBEX: [AccountAbsorbed(merged=ACME)]}
    )
    merged = given(created("ACME"), AccountMerged(into=GLOBEX)).state
    survivor = given(created("Globex"), AccountAbsorbed(merged=ACME)).state
    assert (merged.merged_into, survivor.absorbed) == (GLOBEX, (ACME,))


def test_no_merge_into_itself_into_a_merged_account_or_into_one_below_it() -> None:
    acme, globex = _two()
    with pytest.raises(RuleViolated, match="an account cannot be merged into itself"):
        rules.merge(acme, acme, [])
    gone = with_(globex, merged_into=HOLDING)
    with pytest.raises(RuleViolated, match=f"was merged into account {HOLDING}; merge into that"):
        rules.merge(acme, gone, [])
    with pytest.raises(RuleViolated, match="cannot be merged into one below it"):
        rules.merge(acme, globex, [HOLDING, ACME])


def test_a_merged_account_changes_no_more() -> None:
    given(created(), AccountMerged(into=GLOBEX)).when(
        lambda a: rules.change(a, replaced(a.details, industry="Retail"))
    ).then_raises(RuleViolated, f"was merged into account {GLOBEX}; change that one instead.")
    given(created(), AccountMerged(into=GLOBEX)).when(
        lambda a: rules.merge(a, _two()[1], [])
    ).then_raises(RuleViolated, f"was merged into account {GLOBEX}")
