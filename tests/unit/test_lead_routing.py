"""The lead processor's rules (domain/lead_routing.py): Given / When / Then, and ``route``."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

import pytest

from domain import lead_routing as routing_rules
from domain.aggregate import fold
from domain.errors import InvalidInput, NotFound, RuleViolated
from domain.lead import LeadShare
from domain.lead_routing import (
    Condition,
    LeadRouting,
    LeadRoutingStarted,
    LeadRule,
    LeadRuleAdded,
    LeadRuleRemoved,
    LeadSplitPicked,
    Routing,
    RuleAction,
    route,
)
from tests.gwt import given

NAMESPACE = UUID("5d0f3c2a-8e51-4b7a-9c6d-2f1e0a9b8c7d")
LEAD = uuid5(NAMESPACE, "lead")
PARTNER = uuid5(NAMESPACE, "partner")


def rule_id(name: str) -> UUID:
    return uuid5(NAMESPACE, f"rule {name}")


def eq(field: str, value: str) -> Condition:
    return Condition(field=field, op="eq", value=value)


def contains(field: str, value: str) -> Condition:
    return Condition(field=field, op="contains", value=value)


def one_of(field: str, *values: str) -> Condition:
    return Condition(field=field, op="in", value=values)


def rules_of(*rules: dict[str, Any]) -> LeadRouting:
    """The routing after adding each rule in turn (``name`` becomes the rule's id)."""
    state: LeadRouting | None = None
    for spec in rules:
        fields = dict(spec)
        name = fields.pop("name")
        fields.setdefault("conditions", ())
        state = fold(state, routing_rules.add_rule(state, rule_id=rule_id(name), **fields))
    assert state is not None
    return state


def routed(routing: LeadRouting | None, **fields: str | None) -> Routing:
    return route(routing, LEAD, fields)


WEB = {"source": "web", "company": "ACME GmbH", "country": "DE"}


# --- add_rule -----------------------------------------------------------------------------


def test_the_first_rule_starts_the_routing() -> None:
    given().when(
        lambda routing: routing_rules.add_rule(
            routing,
            rule_id=rule_id("a"),
            priority=10,
            conditions=(Condition(field="  Source ", op="eq", value="web"),),
            assign="  ann ",
        )
    ).then(
        LeadRoutingStarted(),
        LeadRuleAdded(
            rule=LeadRule(
                id=rule_id("a"),
                priority=10,
                conditions=(eq("source", "web"),),
                action=RuleAction(assign="ann"),
            )
        ),
    )


def test_a_later_rule_is_only_added() -> None:
    routing = rules_of({"name": "a", "priority": 10, "assign": "ann"})
    given(LeadRoutingStarted(), LeadRuleAdded(rule=routing.rules[0])).when(
        lambda routing: routing_rules.add_rule(
            routing,
            rule_id=rule_id("b"),
            priority=5,
            conditions=(),
            split={"ann": 50, "bob": 50},
        )
    ).then(
        LeadRuleAdded(
            rule=LeadRule(
                id=rule_id("b"),
                priority=5,
                conditions=(),
                action=RuleAction(
                    split=(LeadShare(user="ann", percent=50), LeadShare(user="bob", percent=50))
                ),
                counts=(0, 0),
            )
        )
    )


def test_rules_are_kept_in_evaluation_order() -> None:
    routing = rules_of(
        {"name": "late", "priority": 30, "assign": "ann"},
        {"name": "first", "priority": 10, "assign": "bob"},
        {"name": "tie 1", "priority": 20, "assign": "cy"},
        {"name": "tie 2", "priority": 20, "assign": "dee"},
        {"name": "zero", "priority": 0, "set_priority": "high"},
    )
    assert [r.id for r in routing.rules] == [
        rule_id(n) for n in ("zero", "first", "tie 1", "tie 2", "late")
    ]


@pytest.mark.parametrize(
    "action",
    [
        {},
        {"assign": "ann", "set_priority": "high"},
        {"assign": "ann", "partner": PARTNER},
        {"split": {"ann": 100}, "partner": PARTNER},
    ],
    ids=["none", "assign and priority", "assign and partner", "split and partner"],
)
def test_a_rule_needs_exactly_one_action(action: dict[str, Any]) -> None:
    given().when(
        lambda routing: routing_rules.add_rule(
            routing, rule_id=rule_id("a"), priority=1, conditions=(), **action
        )
    ).then_raises(
        InvalidInput, "a rule's action is exactly one of assign, partner, split or priority."
    )


@pytest.mark.parametrize("priority", [-1, True])
def test_a_rule_priority_is_a_whole_number_from_zero(priority: int) -> None:
    given().when(
        lambda routing: routing_rules.add_rule(
            routing, rule_id=rule_id("a"), priority=priority, conditions=(), assign="ann"
        )
    ).then_raises(InvalidInput, "a rule's priority is a whole number from 0 up.")


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ({"assign": "   "}, "assign names a user."),
        ({"set_priority": "critical"}, "priority is one of low, normal, high, urgent."),
        ({"split": {"ann": 100, "bob": 0}}, "bob's share is a whole percentage from 1 to 100."),
        ({"split": {}}, "a split needs at least one share."),
    ],
    ids=["blank assign", "unknown priority", "zero share", "empty split"],
)
def test_a_rule_with_a_malformed_action_is_refused(action: dict[str, Any], message: str) -> None:
    given().when(
        lambda routing: routing_rules.add_rule(
            routing, rule_id=rule_id("a"), priority=1, conditions=(), **action
        )
    ).then_raises(InvalidInput, message)


def test_a_rule_whose_split_does_not_sum_to_100_is_refused() -> None:
    given().when(
        lambda routing: routing_rules.add_rule(
            routing, rule_id=rule_id("a"), priority=1, conditions=(), split={"ann": 50, "bob": 40}
        )
    ).then_raises(RuleViolated, "the shares sum to 90, not 100.")


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (Condition(field="   ", op="eq", value="web"), "a condition needs a field."),
        (
            Condition(field="source", op="gt", value="web"),  # type: ignore[arg-type]
            "a condition's op is one of eq, contains, in.",
        ),
        (
            Condition(field="source", op="in", value="web"),
            "an 'in' condition needs a non-empty list of non-blank values.",
        ),
        (
            Condition(field="source", op="in", value=()),
            "an 'in' condition needs a non-empty list of non-blank values.",
        ),
        (
            Condition(field="source", op="in", value=("web", "  ")),
            "an 'in' condition needs a non-empty list of non-blank values.",
        ),
        (Condition(field="source", op="eq", value=("web",)), "'eq' conditions need a text"),
        (Condition(field="source", op="eq", value="  "), "'eq' conditions need a text"),
        (
            Condition(field="source", op="contains", value=""),
            "'contains' conditions need a text value.",
        ),
    ],
    ids=[
        "no field",
        "unknown op",
        "in with text",
        "in empty",
        "in with a blank value",
        "eq with list",
        "eq blank",
        "contains empty",
    ],
)
def test_a_rule_with_a_malformed_condition_is_refused(condition: Condition, message: str) -> None:
    given().when(
        lambda routing: routing_rules.add_rule(
            routing, rule_id=rule_id("a"), priority=1, conditions=(condition,), assign="ann"
        )
    ).then_raises(InvalidInput, message)


def test_a_rule_id_that_is_taken_is_refused() -> None:
    routing = rules_of({"name": "a", "priority": 1, "assign": "ann"})
    with pytest.raises(InvalidInput, match="is taken"):
        routing_rules.add_rule(
            routing, rule_id=rule_id("a"), priority=2, conditions=(), assign="bob"
        )


def test_removing_a_rule_takes_it_out_of_the_evaluation() -> None:
    routing = rules_of(
        {"name": "a", "priority": 1, "assign": "ann"},
        {"name": "b", "priority": 2, "assign": "bob"},
    )
    decided = routing_rules.remove_rule(routing, rule_id("a"))
    assert decided == [LeadRuleRemoved(rule_id=rule_id("a"))]
    after = fold(routing, decided)
    assert [r.id for r in after.rules] == [rule_id("b")]
    assert routed(after).owner == "bob"


def test_removing_a_rule_that_does_not_exist_is_not_found() -> None:
    routing = rules_of({"name": "a", "priority": 1, "assign": "ann"})
    with pytest.raises(NotFound, match="there is no lead rule with id"):
        routing_rules.remove_rule(routing, rule_id("missing"))
    with pytest.raises(NotFound, match="there is no lead rule with id"):
        routing_rules.remove_rule(None, rule_id("a"))
    with pytest.raises(NotFound):
        routing_rules.remove_rule(
            fold(routing, routing_rules.remove_rule(routing, rule_id("a"))), rule_id("a")
        )


# --- route: order -------------------------------------------------------------------------


def test_without_rules_every_lead_goes_to_the_free_pool() -> None:
    assert routed(None, **WEB) == Routing()
    assert routed(None, **WEB).pool


def test_a_lead_no_routing_rule_matches_goes_to_the_free_pool() -> None:
    routing = rules_of(
        {"name": "fair", "priority": 1, "conditions": (eq("source", "fair"),), "assign": "ann"},
        {"name": "at", "priority": 2, "conditions": (eq("country", "AT"),), "partner": PARTNER},
    )
    decided = routed(routing, **WEB)
    assert (decided.pool, decided.owner, decided.partner_id, decided.rule_id) == (
        True,
        None,
        None,
        None,
    )
    assert decided.events == ()


def test_a_lower_priority_number_is_tried_first() -> None:
    routing = rules_of(
        {"name": "late", "priority": 20, "assign": "ann"},
        {"name": "early", "priority": 10, "assign": "bob"},
    )
    assert (routed(routing, **WEB).owner, routed(routing, **WEB).rule_id) == (
        "bob",
        rule_id("early"),
    )


@pytest.mark.parametrize(("order", "winner"), [(("ann", "bob"), "ann"), (("bob", "ann"), "bob")])
def test_equal_priorities_are_tried_in_the_order_they_were_added(
    order: tuple[str, str], winner: str
) -> None:
    routing = rules_of(*({"name": user, "priority": 10, "assign": user} for user in order))
    assert routed(routing, **WEB).owner == winner


def test_a_rule_added_later_with_a_lower_priority_number_goes_before_the_others() -> None:
    routing = rules_of(
        {"name": "a", "priority": 10, "assign": "ann"},
        {"name": "b", "priority": 10, "assign": "bob"},
        {"name": "c", "priority": 9, "assign": "cy"},
    )
    assert routed(routing, **WEB).owner == "cy"


def test_a_rule_that_does_not_match_does_not_stop_the_evaluation() -> None:
    routing = rules_of(
        {"name": "fair", "priority": 1, "conditions": (eq("source", "fair"),), "assign": "ann"},
        {"name": "web", "priority": 2, "conditions": (eq("source", "web"),), "assign": "bob"},
    )
    assert routed(routing, **WEB).owner == "bob"
    assert routed(routing, source="fair").owner == "ann"


# --- route: conditions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "value"),
    [
        (eq("source", "web"), "WEB"),
        (eq("source", "  Web "), "web"),
        (eq("source", "web"), "  wEb  "),
        (contains("source", "GMBH"), "ACME GmbH & Co. KG"),
        (contains("source", " acme "), "The ACME company"),
        (one_of("source", "DE", "at", "CH"), "AT"),
        (one_of("source", " de "), "De "),
    ],
)
def test_conditions_compare_text_case_insensitively_and_trimmed(
    condition: Condition, value: str
) -> None:
    routing = rules_of({"name": "a", "priority": 1, "conditions": (condition,), "assign": "ann"})
    assert routed(routing, source=value).owner == "ann"


@pytest.mark.parametrize(
    ("condition", "value"),
    [
        (eq("source", "web"), "website"),
        (eq("source", "web"), "we b"),
        (contains("source", "gmbh"), "ACME AG"),
        (contains("source", "ACME GmbH & Co"), "ACME GmbH"),
        (one_of("source", "DE", "AT"), "CH"),
        (one_of("source", "DE", "AT"), "DE, AT"),
    ],
)
def test_a_condition_that_does_not_hold_does_not_match(condition: Condition, value: str) -> None:
    routing = rules_of({"name": "a", "priority": 1, "conditions": (condition,), "assign": "ann"})
    assert routed(routing, source=value).pool


@pytest.mark.parametrize(
    "condition",
    [eq("region", "north"), contains("region", "n"), one_of("region", "north", "south")],
)
@pytest.mark.parametrize("fields", [{}, {"region": None}], ids=["absent", "none"])
def test_a_field_the_lead_lacks_never_matches(
    condition: Condition, fields: dict[str, str | None]
) -> None:
    routing = rules_of({"name": "a", "priority": 1, "conditions": (condition,), "assign": "ann"})
    assert routed(routing, **fields).pool


def test_condition_field_names_are_not_case_sensitive() -> None:
    routing = rules_of(
        {"name": "a", "priority": 1, "conditions": (eq(" Lead_Source ", "web"),), "assign": "ann"}
    )
    assert routing.rules[0].conditions == (eq("lead_source", "web"),)
    assert routed(routing, lead_source="web").owner == "ann"


def test_every_condition_of_a_rule_must_hold() -> None:
    both = (eq("source", "web"), eq("country", "DE"))
    routing = rules_of({"name": "a", "priority": 1, "conditions": both, "assign": "ann"})
    assert routed(routing, source="web", country="de").owner == "ann"
    assert routed(routing, source="web", country="AT").pool
    assert routed(routing, source="web").pool


def test_a_rule_without_conditions_matches_every_lead() -> None:
    routing = rules_of({"name": "a", "priority": 1, "assign": "ann"})
    assert routed(routing).owner == "ann"
    assert routed(routing, **WEB).owner == "ann"


# --- route: actions -----------------------------------------------------------------------


def test_a_priority_rule_sets_the_priority_and_evaluation_goes_on() -> None:
    routing = rules_of(
        {
            "name": "hot",
            "priority": 1,
            "conditions": (eq("source", "web"),),
            "set_priority": "high",
        },
        {"name": "ann", "priority": 2, "assign": "ann"},
    )
    decided = routed(routing, **WEB)
    assert (decided.owner, decided.priority, decided.rule_id) == ("ann", "high", rule_id("ann"))


def test_a_priority_rule_alone_leaves_the_lead_in_the_pool_with_that_priority() -> None:
    routing = rules_of({"name": "hot", "priority": 1, "set_priority": "urgent"})
    decided = routed(routing, **WEB)
    assert (decided.pool, decided.priority, decided.rule_id) == (True, "urgent", None)


def test_the_first_matching_priority_rule_sets_the_priority() -> None:
    routing = rules_of(
        {"name": "urgent", "priority": 1, "set_priority": "urgent"},
        {"name": "low", "priority": 2, "set_priority": "low"},
    )
    assert routed(routing, **WEB).priority == "urgent"


def test_a_priority_rule_after_the_deciding_rule_is_not_reached() -> None:
    routing = rules_of(
        {"name": "ann", "priority": 1, "assign": "ann"},
        {"name": "hot", "priority": 2, "set_priority": "high"},
    )
    assert routed(routing, **WEB).priority is None


def test_an_assign_rule_decides_and_stops_the_evaluation() -> None:
    routing = rules_of(
        {"name": "ann", "priority": 1, "assign": "ann"},
        {"name": "split", "priority": 2, "split": {"bob": 50, "cy": 50}},
        {"name": "partner", "priority": 3, "partner": PARTNER},
    )
    assert routed(routing, **WEB) == Routing(owner="ann", rule_id=rule_id("ann"))


def test_a_partner_rule_decides_the_partner_and_no_owner() -> None:
    routing = rules_of(
        {"name": "partner", "priority": 1, "partner": PARTNER},
        {"name": "ann", "priority": 2, "assign": "ann"},
    )
    decided = routed(routing, **WEB)
    assert decided == Routing(partner_id=PARTNER, rule_id=rule_id("partner"))
    assert not decided.pool


def test_a_split_rule_decides_and_records_its_pick() -> None:
    routing = rules_of(
        {"name": "split", "priority": 1, "split": {"bob": 50, "cy": 50}},
        {"name": "ann", "priority": 2, "assign": "ann"},
    )
    decided = routed(routing, **WEB)
    assert decided == Routing(
        owner="bob",
        rule_id=rule_id("split"),
        events=(LeadSplitPicked(rule_id=rule_id("split"), lead_id=LEAD, user="bob"),),
    )


def test_a_split_pick_advances_that_splits_counts_only() -> None:
    routing = rules_of(
        {
            "name": "one",
            "priority": 1,
            "conditions": (eq("source", "web"),),
            "split": {"a": 50, "b": 50},
        },
        {"name": "two", "priority": 2, "split": {"c": 25, "d": 75}},
    )
    owners = []
    for source in ("web", "web", "web", "fair", "fair", "fair", "fair"):
        decided = route(routing, LEAD, {"source": source})
        owners.append(decided.owner)
        routing = fold(routing, decided.events)
    # 25/75 over four leads is exactly one and three.
    assert owners == ["a", "b", "a", "d", "d", "c", "d"]
    assert [r.counts for r in routing.rules] == [(2, 1), (1, 3)]


def test_route_itself_changes_nothing() -> None:
    routing = rules_of({"name": "split", "priority": 1, "split": {"bob": 50, "cy": 50}})
    # Without folding the pick, the same lead is offered to the same user again.
    assert routed(routing).owner == routed(routing).owner == "bob"
