"""Campaign: Given / When / Then against events (domain/campaign.py)."""

from __future__ import annotations

from datetime import date

import pytest

from domain import campaign as rules
from domain.campaign import CampaignArchived, CampaignCreated
from domain.errors import InvalidInput, RuleViolated
from tests.gwt import given

SPRING = CampaignCreated(
    name="Spring fair", channel="events", starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 31)
)


def test_creating_a_campaign_cleans_its_name_and_channel() -> None:
    state = (
        given()
        .when(
            lambda _: rules.create(
                "  Spring   fair ",
                channel="  events ",
                starts_on=date(2027, 3, 1),
                ends_on=date(2027, 3, 31),
            )
        )
        .then_state()
    )
    given().when(
        lambda _: rules.create(
            "  Spring   fair ",
            channel="  events ",
            starts_on=date(2027, 3, 1),
            ends_on=date(2027, 3, 31),
        )
    ).then(SPRING)
    assert (state.name, state.channel, state.archived) == ("Spring fair", "events", False)


def test_a_campaign_needs_only_a_name() -> None:
    given().when(lambda _: rules.create("Newsletter", channel="   ")).then(
        CampaignCreated(name="Newsletter", channel=None, starts_on=None, ends_on=None)
    )


@pytest.mark.parametrize("name", ["", "   ", "\n\t"])
def test_a_campaign_without_a_name_is_refused(name: str) -> None:
    given().when(lambda _: rules.create(name)).then_raises(InvalidInput, "a campaign needs a name.")


def test_a_campaign_that_ends_before_it_starts_is_refused() -> None:
    given().when(
        lambda _: rules.create("Fair", starts_on=date(2027, 3, 2), ends_on=date(2027, 3, 1))
    ).then_raises(InvalidInput, "a campaign cannot end before it starts.")


def test_a_one_day_campaign_may_end_the_day_it_starts() -> None:
    given().when(
        lambda _: rules.create("Fair", starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 1))
    ).then(CampaignCreated(name="Fair", starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 1)))


def test_archiving_a_campaign_stops_it_taking_leads() -> None:
    rules.ensure_takes_leads(given(SPRING).state)  # an open one takes leads
    state = given(SPRING).when(rules.archive).then_state()
    given(SPRING).when(rules.archive).then(CampaignArchived())
    assert state.archived is True
    with pytest.raises(RuleViolated, match="it takes no new leads"):
        rules.ensure_takes_leads(state)


def test_archiving_an_archived_campaign_is_refused() -> None:
    given(SPRING, CampaignArchived()).when(rules.archive).then_raises(
        RuleViolated, "campaign 'Spring fair' is already archived."
    )
