"""Idempotency-Key on requests that hold personal data (lead intake, create, edit).

The store keeps an idempotency record's fingerprint (the SHA-256 of method, path and
canonical body, as ``adapters/http/commanding.py`` computes it) keyed by the data key of
each data subject the command wrote to: ``hmac-sha256:<lead id>:<HMAC-SHA256(key,
fingerprint)>``. A plain hash of a body holding an e-mail address would be easy to guess
back, and would outlive the anonymize that destroys the key. On both stores:

- the stored fingerprint is the keyed one, never the plain hash, also for an edit whose
  events carry no personal field (the body may repeat the e-mail all the same);
- the same key and body are replayed; the same key with another body is 409;
- once the lead is anonymized nothing can be compared: a repeat gets the stored answer
  (ids only) and writes nothing;
- a keyed command on no data subject keeps the plain fingerprint.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Services
from adapters.http.commanding import request_fingerprint
from tests.http.helpers import CLOSE, JSON, command_ok, key_reused, log_position, query_ok
from tests.identity import TEAM

pytestmark = pytest.mark.users(*TEAM)

EMAIL = "jane.roe@example.org"
OTHER_EMAIL = "john.doe@example.org"


def lead_body(**fields: Any) -> JSON:
    body: JSON = {"first_name": "Jane", "last_name": "Roe", "address": None, "email": EMAIL}
    body.update(fields)
    return body


def make_lead(client: TestClient) -> str:
    return str(command_ok(client.post("/leads", json=lead_body()), 201)["id"])


@dataclass(frozen=True)
class Keyed:
    """One request holding personal data, another body for the same route, and the lead."""

    method: str
    path: str
    body: JSON
    other: JSON
    lead: str | None  # the lead it writes to; None: the one it creates

    def send(self, client: TestClient, key: str, body: JSON | None = None) -> Any:
        payload = self.body if body is None else body
        return client.request(
            self.method, self.path, json=payload, headers={"Idempotency-Key": key}
        )

    def plain_fingerprint(self) -> str:
        return request_fingerprint(self.method, self.path, json.dumps(self.body).encode())


def _intake(client: TestClient) -> Keyed:
    return Keyed("POST", "/lead-intake", lead_body(), lead_body(email=OTHER_EMAIL), None)


def _create(client: TestClient) -> Keyed:
    return Keyed("POST", "/leads", lead_body(), lead_body(email=OTHER_EMAIL), None)


def _edit(client: TestClient) -> Keyed:
    lead = make_lead(client)
    body = {"address": "Quellenweg 17, Berlin"}
    return Keyed("PATCH", f"/leads/{lead}", body, {"address": "Elsewhere 1, Hamburg"}, lead)


def _edit_repeating_the_email(client: TestClient) -> Keyed:
    # Only the source changes: its events carry no personal field, its body does.
    lead = make_lead(client)
    body = {"address": None, "email": EMAIL, "source": "trade fair"}
    return Keyed("PATCH", f"/leads/{lead}", body, {**body, "email": OTHER_EMAIL}, lead)


REQUESTS: dict[str, Callable[[TestClient], Keyed]] = {
    "intake": _intake,
    "create": _create,
    "edit": _edit,
    "edit repeating the e-mail": _edit_repeating_the_email,
}


@pytest.fixture(params=sorted(REQUESTS))
def keyed(request: pytest.FixtureRequest, any_client: TestClient) -> Keyed:
    return REQUESTS[request.param](any_client)


def data_key(services: Services, lead: str) -> bytes:
    keys = services.store.app.vault.keys.data_keys([UUID(lead)])  # type: ignore[union-attr]
    return keys[UUID(lead)]


def stored_fingerprint(services: Services, key: str) -> str:
    record = services.store.idempotency_record(key)
    assert record is not None
    return record.fingerprint


def test_the_fingerprint_of_a_request_on_a_lead_is_kept_keyed_by_the_leads_data_key(
    any_client: TestClient, services: Services, keyed: Keyed
) -> None:
    # When a request holding personal data is sent with an Idempotency-Key
    key = str(uuid4())
    answer = command_ok(keyed.send(any_client, key), 200 if keyed.lead else 201)
    lead = keyed.lead or str(answer["id"])
    # Then its record keeps not the plain hash of the request but its HMAC under the lead's
    # data key, naming the lead
    plain = keyed.plain_fingerprint()
    stored = stored_fingerprint(services, key)
    assert plain not in stored
    mac = hmac.new(data_key(services, lead), plain.encode(), hashlib.sha256).hexdigest()
    assert stored == f"hmac-sha256:{lead}:{mac}"


def test_an_edit_that_only_repeats_the_email_writes_no_personal_field_and_is_keyed(
    any_client: TestClient, services: Services
) -> None:
    # Given the edit that changes the source and repeats the e-mail
    keyed = _edit_repeating_the_email(any_client)
    assert keyed.lead is not None
    # When it is sent with a key
    command_ok(keyed.send(any_client, "edit-1"))
    # Then it wrote an event without personal data, and its fingerprint is keyed all the same
    history = query_ok(any_client.get(f"/history/{keyed.lead}"))
    assert history[-1]["type"] == "LeadDetailsChanged"
    assert stored_fingerprint(services, "edit-1").startswith(f"hmac-sha256:{keyed.lead}:")


def test_the_same_key_and_personal_body_is_replayed_and_another_body_is_a_conflict(
    any_client: TestClient, keyed: Keyed
) -> None:
    # Given a keyed request holding personal data that went through
    key = str(uuid4())
    first = keyed.send(any_client, key)
    assert first.status_code in (200, 201), first.text
    position = log_position(any_client)
    # When the same key and body come again
    again = keyed.send(any_client, key)
    # Then the first answer comes back, replayed, and nothing is written
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert log_position(any_client) == position
    # And the same key with another body (another e-mail, address) is refused
    key_reused(any_client, keyed.method, keyed.path, key, keyed.other)


def test_after_anonymize_a_repeat_gets_the_stored_answer_since_nothing_can_be_compared(
    any_client: TestClient, services: Services
) -> None:
    # Given an intake with a key, and its lead anonymized (its data key destroyed)
    keyed = _intake(any_client)
    first = keyed.send(any_client, "intake-1")
    lead = str(command_ok(first, 201)["id"])
    command_ok(any_client.post(f"/leads/{lead}/anonymize"))
    assert stored_fingerprint(services, "intake-1").startswith(f"hmac-sha256:{lead}:")
    position = log_position(any_client)
    # When the same key comes again, with the same body or another
    for body in (keyed.body, keyed.other):
        again = keyed.send(any_client, "intake-1", body)
        # Then the stored answer (ids only) comes back, replayed, and nothing is written
        assert (again.status_code, again.json()) == (201, first.json())
        assert again.headers["Idempotent-Replayed"] == "true"
    assert log_position(any_client) == position


def test_a_keyed_command_on_no_data_subject_keeps_the_plain_fingerprint(
    any_client: TestClient, services: Services
) -> None:
    body = {"title": "Deal", "account_name": "ACME", "owner": "alice", "expected_close": CLOSE}
    command_ok(any_client.post("/opportunities", json=body, headers={"Idempotency-Key": "o"}), 201)
    plain = request_fingerprint("POST", "/opportunities", json.dumps(body).encode())
    assert stored_fingerprint(services, "o") == plain
