"""One opportunity's life, told in order: a generator of simulated delays."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from datetime import timedelta
from functools import partial
from uuid import UUID

from domain import account as account_rules
from domain import opportunity as opp_rules
from domain.events import DomainEvent
from domain.ids import (
    account_id_for,
)
from domain.money import Money

from .decisions import Decisions
from .world import DEAL_KINDS, HOUR, MINUTE, OWNER_WEIGHTS, OWNERS, _days


class Deals(Decisions):
    """Opportunities from creation to their sale, loss or deletion."""

    def closed(
        self, oid: UUID, how: str, reopened: float, after: tuple[int, int]
    ) -> Generator[float, None, bool]:
        """Close the deal ``how``; with chance ``reopened``, reopen it ``after`` (a range of
        days) and say False; True when it stays closed."""
        self.close(oid, how)
        if self.rng.random() > reopened:
            return True
        yield _days(self.rng, *after)
        self.attempt(lambda: self.decide({oid: opp_rules.reopen(self.opp(oid), self.pipeline)}))
        return False

    def deal(self, n: int) -> Iterator[float]:  # noqa: PLR0915 - a story, told in order
        rng = self.rng
        oid = self.uuid()
        currency = "USD" if rng.random() < 0.3 else "EUR"
        owner = rng.choices(OWNERS, OWNER_WEIGHTS)[0]
        self.by = owner  # a rep makes and works their own deals
        index = int(len(self.account_names) * rng.random() ** 2)
        account_name = self.account_names[index]
        account_id = account_id_for(account_name)
        changes: dict[UUID, list[DomainEvent]] = {}
        if account_id not in self.states:
            changes[account_id] = account_rules.create(account_name)
        estimate = (
            Money.of(rng.randrange(4, 400) * 500, currency)
            if rng.random() < 0.6
            else Money.zero(currency)
        )
        changes[oid] = opp_rules.create(
            title=f"{account_name.split()[0]} {rng.choice(DEAL_KINDS)} #{n}",
            account_id=account_id,
            owner=owner,
            pipeline=self.state(self.pipeline_id),
            expected_close=(self.now + timedelta(days=rng.randint(30, 180))).date(),
            amount=estimate,
            partner_id=rng.choice(self.partners) if rng.random() < 0.12 else None,
        )
        self.decide(changes)
        yield rng.uniform(1, 72) * HOUR

        self.log_activity(oid)
        for _ in range(rng.choice((0, 1, 1, 2))):
            self.add_role(oid)
        yield _days(rng, 1, 7)
        if rng.random() < 0.015:
            self.delete(oid)
            return
        if estimate.amount and rng.random() < 0.35:
            self.attempt(lambda: self.change_amount(oid))
        if rng.random() < 0.07 and (yield from self.closed(oid, "unqualified", 0.1, (10, 40))):
            return
        yield _days(rng, 2, 10)

        self.move(oid, "qualification")
        yield _days(rng, 1, 5)
        quote_id = self.create_quote(oid, currency)
        for _ in range(rng.randint(2, 6)):
            yield rng.uniform(2, 90) * MINUTE
            self.add_item(quote_id)
        yield rng.uniform(1, 24) * HOUR
        self.activate(oid, quote_id)
        for _ in range(rng.randint(1, 3)):
            yield _days(rng, 1, 6)
            self.log_activity(oid)
        if rng.random() < 0.2:
            self.attempt(lambda: self.edit_activity(oid))
        if rng.random() < 0.1:
            self.attempt(lambda: self.delete_activity(oid))
        if rng.random() < 0.15 and (yield from self.closed(oid, "lost", 0.12, (10, 60))):
            return
        yield _days(rng, 3, 15)

        self.move(oid, "proposal")
        if rng.random() < 0.35:
            yield rng.uniform(1, 48) * HOUR
            self.attempt(lambda: self.offer(oid))
        for _ in range(rng.randint(1, 3)):
            yield _days(rng, 1, 8)
            self.attempt(lambda: self.change_item(oid))
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            yield _days(rng, 1, 10)
            self.attempt(lambda: self.push_close(oid))
        if rng.random() < 0.2:
            self.attempt(lambda: self.override_probability(oid))
        if rng.random() < 0.15:
            self.attempt(lambda: self.override_category(oid))
        if rng.random() < 0.2:
            yield _days(rng, 1, 6)
            self.attempt(lambda: self.second_quote(oid))
        for rare in (self.reassign, self.rename, self.assign_partner):
            if rng.random() < 0.05:
                self.attempt(partial(rare, oid))
        self.log_activity(oid)
        if rng.random() < 0.25:
            yield _days(rng, 2, 20)
            self.close(oid, "lost")
            return
        yield _days(rng, 4, 20)

        self.move(oid, "negotiation")
        for _ in range(rng.randint(1, 3)):
            yield _days(rng, 1, 7)
            self.log_activity(oid)
        if rng.random() < 0.4:
            self.attempt(lambda: self.change_item(oid))
        yield _days(rng, 3, 25)
        while True:
            if rng.random() < 0.65:
                self.attempt(lambda: self.sell(oid))
                if rng.random() > 0.08:
                    return
                yield _days(rng, 2, 20)
                self.attempt(lambda: self.unlock(oid))
                yield _days(rng, 1, 5)
                self.attempt(lambda: self.change_item(oid))
                yield _days(rng, 1, 10)
            else:
                if (yield from self.closed(oid, "lost", 0.08, (15, 60))):
                    return
                yield _days(rng, 2, 15)
