"""Every route but /health and the documents needs a bearer token: an API token of an
active user, or an OIDC JWT of the configured issuer naming one. Anything else is
``401 unauthenticated`` with ``WWW-Authenticate: Bearer``, and writes nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from adapters.bootstrap import Services, bootstrap
from adapters.clock import ManualClock
from adapters.http.app import create_app
from adapters.settings import Settings
from adapters.tokens import new_token
from domain.ids import user_id_for
from tests.http.answer_schemas import checked
from tests.http.helpers import project
from tests.identity import bearer, user_token

ISSUER = "https://login.example.test/"
AUDIENCE = "crmledger"
# Routes any caller may read without a token.
OPEN = {"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def anonymous(services: Services) -> TestClient:
    return checked(TestClient(create_app(services), raise_server_exceptions=False))


def assert_unauthenticated(answer: Any, detail: str | None = None) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.json()["error"] == "unauthenticated"
    if detail is not None:
        assert answer.json()["detail"] == detail


def operations(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, path) of the OpenAPI document, path parameters filled in."""
    document = client.get("/openapi.json").json()
    filled = {"login": "admin", "name_or_id": "Sales"}
    found = []
    for path, methods in document["paths"].items():
        concrete = path
        for name in [p.strip("{}") for p in path.split("/") if p.startswith("{")]:
            value = filled.get(name, "00000000-0000-4000-8000-000000000000")
            concrete = concrete.replace("{" + name + "}", value)
        found += [(method.upper(), concrete) for method in methods]
    return found


def test_every_route_of_the_document_refuses_a_request_without_a_token(
    sqlite_services: Services,
) -> None:
    # Given the API, and a log position before any request
    client = anonymous(sqlite_services)
    before = sqlite_services.store.max_position()
    routes = [(method, path) for method, path in operations(client) if path not in OPEN]
    assert len(routes) > 80
    # When each route is called without a token (a body that would do, where one is read)
    for method, path in routes:
        answer = client.request(method, path, json={})
        # Then it is refused as unauthenticated, naming what is missing
        assert_unauthenticated(answer, "this route needs Authorization: Bearer <token>.")
    # and nothing was written
    assert sqlite_services.store.max_position() == before


@pytest.mark.parametrize("path", sorted(OPEN - {"/docs/oauth2-redirect"}))
def test_health_and_the_documents_need_no_token(sqlite_services: Services, path: str) -> None:
    assert anonymous(sqlite_services).get(path).status_code == 200


def test_the_document_declares_the_bearer_scheme_on_every_guarded_route(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes == {
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": schemes["HTTPBearer"]["description"],
        }
    }
    error = {"$ref": "#/components/schemas/ErrorAnswer"}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            guarded = path not in OPEN
            assert (operation.get("security") == [{"HTTPBearer": []}]) == guarded, (method, path)
            # and what a guarded route answers without a valid token, or without the right
            for status in ("401", "403"):
                declared = operation["responses"].get(status)
                if not guarded:
                    assert declared is None, (method, path, status)
                    continue
                assert declared is not None, (method, path, status)
                assert declared["content"]["application/json"]["schema"] == error
            # a record addressed by id may be unknown, or one the user may not see: 404
            if guarded and "{" in path:
                declared = operation["responses"].get("404")
                assert declared is not None, (method, path, "404")
                assert declared["content"]["application/json"]["schema"] == error


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("crm_", id="prefix-only"),
        pytest.param("not a token", id="not-a-token"),
        pytest.param(new_token(user_id_for("admin"))[0], id="never-issued"),
        pytest.param(new_token(user_id_for("nobody"))[0], id="of-no-user"),
        pytest.param("crm_" + "0" * 32 + "_" + "A" * 43, id="of-the-nil-user"),
    ],
)
def test_a_token_that_was_never_issued_is_refused(sqlite_services: Services, token: str) -> None:
    user_token(sqlite_services)  # an admin exists, with a token of their own
    answer = anonymous(sqlite_services).get("/me", headers=bearer(token))
    assert_unauthenticated(answer)


def test_me_is_the_user_the_token_names(sqlite_services: Services) -> None:
    token = user_token(sqlite_services, "maria", "manager", name="Maria Moreau")
    answer = anonymous(sqlite_services).get("/me", headers=bearer(token))
    assert answer.status_code == 200
    assert {k: answer.json()[k] for k in ("login", "name", "role", "manager", "active")} == {
        "login": "maria",
        "name": "Maria Moreau",
        "role": "manager",
        "manager": None,
        "active": True,
    }


def test_a_token_expires_at_its_instant(sqlite_services: Services, clock: ManualClock) -> None:
    # Given a token of 2 days, made through the API
    client = anonymous(sqlite_services)
    admin = bearer(user_token(sqlite_services))
    made = client.post("/users/admin/tokens", json={"expires_in_days": 2}, headers=admin)
    assert made.status_code == 201, made.text
    token = bearer(made.json()["token"])
    assert made.json()["expires_at"] == (clock.now() + timedelta(days=2)).isoformat()
    # When time passes, Then it works until its expiry and not from then on
    clock.advance(timedelta(days=2) - timedelta(seconds=1))
    assert client.get("/me", headers=token).status_code == 200
    clock.advance(timedelta(seconds=1))
    assert_unauthenticated(client.get("/me", headers=token))


def test_revoking_and_deactivating_take_effect_on_the_next_request(
    sqlite_services: Services,
) -> None:
    client = anonymous(sqlite_services)
    admin = bearer(user_token(sqlite_services))
    alice = bearer(user_token(sqlite_services, "alice", "rep"))
    assert client.get("/me", headers=alice).status_code == 200
    # When alice's tokens are revoked, Then her next request is refused
    assert client.delete("/users/alice/tokens", headers=admin).status_code == 200
    assert_unauthenticated(client.get("/me", headers=alice))
    # And a new token works until she is deactivated
    alice = bearer(user_token(sqlite_services, "alice"))
    assert client.get("/me", headers=alice).status_code == 200
    assert client.post("/users/alice/deactivate", headers=admin).status_code == 200
    assert_unauthenticated(client.get("/me", headers=alice))


def test_users_are_added_listed_changed_and_read_by_login(client: TestClient) -> None:
    # When a manager and a rep under them are added
    added = client.post("/users", json={"login": "maria", "role": "manager"})
    assert added.status_code == 201, added.text
    assert added.json()["id"] == str(user_id_for("maria"))
    client.post("/users", json={"login": "alice", "role": "rep", "manager": "maria"})
    # And the rep is promoted and taken from under the manager
    changed = client.patch("/users/alice", json={"role": "manager", "manager": None})
    assert changed.status_code == 200, changed.text
    # Then the user reads as changed, and the list (a read model) holds all three
    alice = client.get("/users/alice").json()
    assert (alice["role"], alice["manager"]) == ("manager", None)
    project(client)
    listed = client.get(f"/users?wait_for={changed.json()['position']}")
    assert listed.status_code == 200
    assert [(u["login"], u["role"]) for u in listed.json()] == [
        ("admin", "admin"),
        ("alice", "manager"),
        ("maria", "manager"),
    ]


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"login": "Alice", "role": "rep"}, 422, "login must be a login"),
        ({"login": "alice", "role": "boss"}, 422, "role: Input should be"),
        ({"login": "alice", "role": "rep", "manager": "nobody"}, 409, "there is no user"),
        ({"login": "admin", "role": "rep"}, 409, "there is already a user 'admin'"),
    ],
)
def test_a_bad_user_is_refused_and_nothing_is_written(
    client: TestClient, sqlite_services: Services, body: dict[str, str], status: int, detail: str
) -> None:
    before = sqlite_services.store.max_position()
    answer = client.post("/users", json=body)
    assert answer.status_code == status, answer.text
    assert detail in answer.json()["detail"]
    assert sqlite_services.store.max_position() == before


def test_an_unknown_user_is_not_found(client: TestClient) -> None:
    for method, path in (
        ("GET", "/users/nobody"),
        ("PATCH", "/users/nobody"),
        ("POST", "/users/nobody/deactivate"),
        ("POST", "/users/nobody/tokens"),
        ("DELETE", "/users/nobody/tokens"),
        ("GET", "/users/Not%20A%20Login"),
    ):
        answer = client.request(method, path, json={} if method != "GET" else None)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json()["detail"].startswith("there is no user")


# --- OIDC ----------------------------------------------------------------------------


class Issuer:
    """An OIDC issuer of the test's own: an RSA and an EC key, published as a JWKS file."""

    def __init__(self, directory: Path) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        keys = []
        for kid, key in (("rsa-1", self.rsa), ("ec-1", self.ec)):
            jwk = json.loads(
                jwt.algorithms.get_default_algorithms()[
                    "RS256" if kid.startswith("rsa") else "ES256"
                ].to_jwk(key.public_key())
            )
            keys.append({**jwk, "kid": kid, "use": "sig"})
        self.jwks = directory / "jwks.json"
        self.jwks.write_text(json.dumps({"keys": keys}))

    def token(self, algorithm: str = "RS256", **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + 300}
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        key = self.rsa if algorithm.startswith("RS") else self.ec
        kid = "rsa-1" if algorithm.startswith("RS") else "ec-1"
        return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid})

    def public_pem(self) -> bytes:
        return self.rsa.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@pytest.fixture
def issuer(tmp_path: Path) -> Issuer:
    return Issuer(tmp_path)


@pytest.fixture
def oidc_services(tmp_path: Path, clock: ManualClock, issuer: Issuer) -> Iterator[Services]:
    settings = Settings(
        home=tmp_path / "oidc-home",
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks=str(issuer.jwks),
    )
    running = bootstrap(settings, clock=clock)
    user_token(running, "alice", "rep")
    yield running
    running.close()


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_a_jwt_of_the_issuer_names_the_user(
    oidc_services: Services, issuer: Issuer, algorithm: str
) -> None:
    answer = anonymous(oidc_services).get("/me", headers=bearer(issuer.token(algorithm)))
    assert answer.status_code == 200, answer.text
    assert answer.json()["login"] == "alice"


def _foreign_token(issuer: Issuer) -> str:
    # Signed by a key of the same id that is not the issuer's.
    with tempfile.TemporaryDirectory() as directory:
        return Issuer(Path(directory)).token()


def _hmac_token(issuer: Issuer) -> str:
    # HS256 keyed with the issuer's public key, as an attacker who has that key would make
    # it (by hand: PyJWT refuses to sign so).
    def part(value: dict[str, Any]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")

    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "exp": int(time.time()) + 300}
    signing_input = part({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}) + b"." + part(claims)
    signature = hmac.new(issuer.public_pem(), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


def _none_token() -> str:
    # An unsigned token ("alg": "none"): PyJWT makes one only when asked for it by name.
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "exp": now + 300}
    return jwt.encode(claims, None, algorithm="none")


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda i: i.token(iss="https://elsewhere.example.test/"), id="issuer"),
        pytest.param(lambda i: i.token(aud="another-service"), id="audience"),
        pytest.param(lambda i: i.token(exp=int(time.time()) - 60), id="expired"),
        pytest.param(lambda i: i.token(nbf=int(time.time()) + 600), id="not-yet-valid"),
        pytest.param(lambda i: i.token(exp=None), id="no-expiry"),
        pytest.param(lambda i: i.token(sub="nobody"), id="unknown-user"),
        pytest.param(lambda i: i.token(sub="Not A Login"), id="not-a-login"),
        pytest.param(lambda i: i.token() + "x", id="bad-signature"),
        pytest.param(lambda i: _none_token(), id="alg-none"),
        pytest.param(_hmac_token, id="alg-hs256"),
        pytest.param(_foreign_token, id="another-issuers-key"),
    ],
)
def test_a_jwt_that_is_not_exactly_right_is_refused(
    oidc_services: Services, issuer: Issuer, make: Any
) -> None:
    answer = anonymous(oidc_services).get("/me", headers=bearer(make(issuer)))
    assert_unauthenticated(answer)


def test_without_an_issuer_configured_a_jwt_is_refused(
    sqlite_services: Services, issuer: Issuer
) -> None:
    user_token(sqlite_services, "alice", "rep")
    answer = anonymous(sqlite_services).get("/me", headers=bearer(issuer.token()))
    assert_unauthenticated(answer, "the bearer token is not one of this server's API tokens.")


def test_a_deactivated_user_is_refused_with_a_valid_jwt(
    oidc_services: Services, issuer: Issuer
) -> None:
    admin = bearer(user_token(oidc_services))
    client = anonymous(oidc_services)
    assert client.post("/users/alice/deactivate", headers=admin).status_code == 200
    assert_unauthenticated(client.get("/me", headers=bearer(issuer.token())))
