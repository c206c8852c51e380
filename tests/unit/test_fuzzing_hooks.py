"""The fuzzer's resource check is told which record a 404 is about (tests/fuzzing_hooks.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest

from tests import fuzzing_hooks


class Answer:
    def __init__(self, status: int, body: Any) -> None:
        self.status_code = status
        self._body = body

    def json(self) -> Any:
        if isinstance(self._body, Exception):
            raise self._body
        return self._body


@pytest.fixture
def builtin(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What reached schemathesis' own check (it is replaced by one that records it)."""
    asked: list[Any] = []

    def ensure_resource_availability(ctx: Any, response: Any, case: Any) -> None:
        asked.append(response)

    monkeypatch.setattr(fuzzing_hooks, "ensure_resource_availability", ensure_resource_availability)
    return asked


def test_a_404_for_a_record_the_body_names_is_not_the_created_one(builtin: list[Any]) -> None:
    # Given an opportunity just created, and a follow-up naming an unknown campaign
    created = str(uuid4())
    case = SimpleNamespace(path_parameters={"opportunity_id": created})
    answer = Answer(
        404, {"error": "not_found", "detail": f"there is no campaign with id {uuid4()}."}
    )
    # Then the check passes without asking the built-in
    assert fuzzing_hooks.created_records_stay_available(None, answer, case) is None
    assert builtin == []


@pytest.mark.parametrize(
    "answer",
    [
        Answer(404, {"error": "not_found", "detail": "there is no opportunity with id {id}."}),
        Answer(404, ValueError("not JSON")),
        Answer(200, {"id": "{id}"}),
    ],
)
def test_any_other_answer_is_for_the_built_in_to_judge(builtin: list[Any], answer: Answer) -> None:
    created = str(uuid4())
    if isinstance(answer._body, dict):
        answer._body = {k: v.replace("{id}", created) for k, v in answer._body.items()}
    case = SimpleNamespace(path_parameters={"opportunity_id": created})
    fuzzing_hooks.created_records_stay_available(None, answer, case)
    assert builtin == [answer]


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        ({"opportunity_id": str(uuid4())}, True),
        # a link from a list answer whose id is null (a lead not yet qualified)
        ({"opportunity_id": None}, False),
        # the fuzzer's own admin is never deactivated or revoked
        ({"login": "fuzzer"}, False),
        ({"login": "alice"}, True),
    ],
)
def test_cases_naming_no_record_or_the_fuzzers_own_login_are_left_out(
    path: dict[str, Any], kept: bool
) -> None:
    case = SimpleNamespace(path_parameters=path, path="/leads/{lead_id}", body=None)
    assert fuzzing_hooks.filter_case(None, case) is kept


@pytest.mark.parametrize(
    ("path", "body", "kept"),
    [
        ("/custom-fields", {"key": "k", "required": True}, False),
        ("/custom-fields/{entity}/{key}", {"required": True}, False),
        ("/custom-fields", {"key": "k", "required": False}, True),
        ("/custom-fields/{entity}/{key}", {"label": "L"}, True),
        ("/contacts", {"required": True}, True),  # not a definition
    ],
)
def test_a_custom_field_made_required_is_left_out(path: str, body: Any, kept: bool) -> None:
    # A required field would make every later create of its entity a 422 by design.
    case = SimpleNamespace(path_parameters={}, path=path, body=body)
    assert fuzzing_hooks.filter_case(None, case) is kept


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://93.184.216.34/hook", True),
        ("http://[2606:4700:4700::1111]/hook", True),
        ("http://127.0.0.1/hook", False),
        ("http://10.0.0.1/hook", False),
        ("http://[::1]/hook", False),
        ("https://example.com/hook", False),  # a name: only DNS could tell
    ],
)
def test_a_webhook_is_kept_only_for_a_public_address_written_out(url: str, kept: bool) -> None:
    case = SimpleNamespace(
        method="POST", path="/webhooks", path_parameters={}, body={"url": url, "events": ["*"]}
    )
    assert fuzzing_hooks.filter_case(None, case) is kept


@pytest.mark.parametrize(
    ("spec", "kept"),
    [
        ({"field": "probability", "value": 60}, True),
        ({"field": "budget", "value": None}, True),  # clearing a custom field stays in
        ({"field": "budget", "value": 12}, False),
        ({"field": ["budget"], "value": 12}, True),  # no field name: the document refuses it
    ],
)
def test_an_automation_setting_a_custom_value_is_left_out(spec: Any, kept: bool) -> None:
    body = {"name": "n", "trigger": {"on": "opportunity.created"}, "actions": [{"set_field": spec}]}
    case = SimpleNamespace(method="POST", path="/automations", path_parameters={}, body=body)
    assert fuzzing_hooks.filter_case(None, case) is kept
