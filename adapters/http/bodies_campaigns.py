"""Request bodies of the campaign routes."""

from __future__ import annotations

from uuid import uuid4

from adapters.http.bodies import Body, example
from adapters.http.fields import Day, Label, Name
from commands.campaigns import CreateCampaign


class CampaignBody(Body):
    model_config = example(
        {
            "name": "Spring webinar",
            "channel": "webinar",
            "starts_on": "2027-03-01",
            "ends_on": "2027-03-31",
        }
    )
    name: Name
    channel: Label | None = None
    starts_on: Day | None = None
    ends_on: Day | None = None

    def to_command(self) -> CreateCampaign:
        return CreateCampaign(
            campaign_id=uuid4(),
            name=self.name,
            channel=self.channel,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
        )
