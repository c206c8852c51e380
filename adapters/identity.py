"""Who is asking: a bearer token turned into the active user it names.

Two kinds of token are taken. An API token (``adapters.tokens``: made by the CLI or
``POST /users/{login}/tokens``) is checked against the digests its user keeps, so a
revocation or a deactivation takes effect on the next request. When an OIDC issuer is
configured, a JWT it signed (RS256 or ES256, keys from a JWKS file or URL) names the
user's login in its ``sub`` claim (or the configured one); PyJWT checks the signature,
the issuer, the audience, the expiry and the not-before. ``none`` and HMAC algorithms
are refused: a shared-secret token could be forged by anyone who knows a public key.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

import jwt

from adapters.postgres_guard import in_one_round_trip
from adapters.tokens import PREFIX, digest, user_of
from commands.ports import Clock
from domain.access import Principal, principal_of
from domain.aggregate import AggregateState
from domain.ids import user_id_for
from domain.user import LOGIN, User

ALGORITHMS = ["RS256", "ES256"]


def user_view(user: User) -> dict[str, Any]:
    """A user as the API and the CLI show them (never their tokens' digests)."""
    return {
        "id": str(user.id),
        "version": user.version,
        "login": user.login,
        "name": user.name,
        "role": user.role,
        "manager": user.manager,
        "partner_id": None if user.partner_id is None else str(user.partner_id),
        "active": user.active,
    }


class UserStore(Protocol):
    """Where users are read from (``SalesEventStore``)."""

    def load(self, aggregate_id: UUID) -> AggregateState | None: ...

    def version_of(self, aggregate_id: UUID) -> int:
        """The last version of ``aggregate_id`` (0: none), without loading it."""


class Unauthenticated(Exception):
    """No token, or one that names no active user: the request is refused (401)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class OidcVerifier:
    """JWTs of one issuer for one audience."""

    def __init__(self, issuer: str, audience: str, jwks: str, login_claim: str = "sub") -> None:
        self.issuer = issuer
        self.audience = audience
        self.login_claim = login_claim
        self._client: jwt.PyJWKClient | None = None
        self._keys: jwt.PyJWKSet | None = None
        if jwks.startswith(("https://", "http://")):
            self._client = jwt.PyJWKClient(jwks, cache_keys=True)
        else:
            self._keys = jwt.PyJWKSet.from_json(Path(jwks).read_text())

    def _key(self, token: str) -> jwt.PyJWK:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token)
        assert self._keys is not None
        kid = jwt.get_unverified_header(token).get("kid")
        keys = [k for k in self._keys.keys if kid is None or k.key_id == kid]
        if not keys:
            raise jwt.InvalidTokenError(f"no key {kid!r} in the issuer's key set")
        return keys[0]

    def login_of(self, token: str) -> str:
        """The login the token names; ``jwt.InvalidTokenError`` (or a JWKS fetch error)
        for anything else."""
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ALGORITHMS:
            raise jwt.InvalidAlgorithmError(f"{header.get('alg')!r} is not RS256 or ES256")
        claims = jwt.decode(
            token,
            key=self._key(token),
            algorithms=ALGORITHMS,
            audience=self.audience,
            issuer=self.issuer,
            options={"require": ["exp", "iss", "aud", self.login_claim]},
        )
        login = claims[self.login_claim]
        if not isinstance(login, str):
            raise jwt.InvalidTokenError(f"the {self.login_claim} claim is not a login")
        return login


class Identity:
    """Turns a bearer token into the user it names, or refuses it."""

    def __init__(
        self,
        store: UserStore,
        clock: Clock,
        oidc: OidcVerifier | None = None,
        team: Callable[[str], frozenset[str]] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.oidc = oidc
        # Everyone below a login in the manager chain (the users read model).
        self.team = team or (lambda _login: frozenset())
        # The users this process loaded, each at its version (users are few).
        self._known: dict[UUID, User] = {}

    def principal(self, user: User) -> Principal:
        """The user as authorization sees them: a manager with their team."""
        return principal_of(user, self.team(user.login) if user.role == "manager" else frozenset())

    def authenticate(self, token: str) -> User:
        if token.startswith(PREFIX):
            return self._api_token(token)
        if self.oidc is None:
            raise Unauthenticated("the bearer token is not one of this server's API tokens.")
        try:
            login = self.oidc.login_of(token)
        except (jwt.PyJWTError, OSError) as refused:
            raise Unauthenticated(f"the bearer token is not accepted: {refused}.") from None
        user = self._user(user_id_for(login)) if LOGIN.fullmatch(login) else None
        if user is None or not user.active:
            raise Unauthenticated(f"the token names {login!r}, who is no active user here.")
        return user

    def _api_token(self, token: str) -> User:
        user_id = user_of(token)
        user = None if user_id is None else self._user(user_id)
        if user is None or not user.token_valid(digest(token), self.clock.now()):
            # One answer for unknown, malformed, expired and revoked: none says which.
            raise Unauthenticated("the API token is unknown, expired or revoked.")
        return user

    def _user(self, user_id: UUID) -> User | None:
        # The user as the log holds them now, asked on every request: a revocation or a
        # deactivation counts from the next one. Their last version is one indexed read (on
        # PostgreSQL one round trip, the pool's pre-ping skipped); the user is loaded again
        # only when it moved on since this process last loaded them.
        version = in_one_round_trip(lambda: self.store.version_of(user_id))
        known = self._known.get(user_id)
        if known is not None and known.version == version:
            return known
        state = self.store.load(user_id) if version else None
        if not isinstance(state, User):
            return None
        self._known[user_id] = state
        return state
