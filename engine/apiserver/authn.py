"""Authentication: who is making this request? The first stage of kube-apiserver's pipeline.

Interface:

- ``UserInfo``: the identity every later stage sees (name, groups, uid, extra),
  as ``k8s.io/apiserver/pkg/authentication/user.Info``.
- ``TokenAuthenticator``: static bearer tokens (``--token-auth-file``).
- ``ServiceAccountTokens``: issues and verifies service account tokens: JWTs
  with the ``kubernetes.io`` claims of bound tokens from the TokenRequest API.
- ``Authenticator``: the request authenticator, chaining the two.

Order, as ``pkg/kubeapiserver/authenticator/config.go`` builds it: static tokens
first, then service account tokens. The first authenticator that recognises the
token decides. A token nobody recognises, or one that is recognised but invalid
(bad signature, expired, its ServiceAccount deleted), is a 401 whose message is
only ``Unauthorized``: the real server never tells a client why, and neither do
we (the cause is on the exception's ``__cause__`` and in the debug log). A
request with no token at all is the anonymous user ``system:anonymous`` in group
``system:unauthenticated``, unless anonymous auth is disabled, when it is a 401
too. Every authenticated user gets the group ``system:authenticated`` appended,
as the real ``AuthenticatedGroupAdder`` does.

Deviations, kept small on purpose: tokens are signed with HMAC-SHA256 from a
seed (``alg: HS256``) instead of the RS256 key pair the real server loads, so a
cluster built from the same seed issues the same tokens; there are no legacy
Secret-based tokens and no client certificates.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from engine.api import errors

logger = logging.getLogger(__name__)

ANONYMOUS = "system:anonymous"
ALL_UNAUTHENTICATED = "system:unauthenticated"
ALL_AUTHENTICATED = "system:authenticated"
SYSTEM_MASTERS = "system:masters"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
ALL_SERVICE_ACCOUNTS = "system:serviceaccounts"

DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local"
# TokenRequest's default expirationSeconds, and its minimum (validation refuses less).
DEFAULT_EXPIRATION_SECONDS = 3600
MIN_EXPIRATION_SECONDS = 600
# What the ServiceAccount admission plugin asks for in a pod's projected token volume.
# The server recognises that exact value and, with --service-account-extend-token-expiration
# (on by default), makes such a token last a year while warning after the requested hour.
PROJECTED_TOKEN_EXPIRATION_SECONDS = 3607
EXTENDED_EXPIRATION_SECONDS = 365 * 24 * 60 * 60


@dataclass(frozen=True)
class UserInfo:
    """An authenticated (or anonymous) identity."""

    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)

    def __hash__(self) -> int:
        """The dataclass's hash (name, groups, uid), computed once: remembered RBAC decisions are keyed by user."""
        known = self.__dict__.get("_hash")
        if known is None:
            known = self.__dict__["_hash"] = hash((self.name, self.groups, self.uid))
        return known

    def with_group(self, group: str) -> UserInfo:
        return UserInfo(self.name, (*self.groups, group), self.uid, self.extra)


def anonymous_user() -> UserInfo:
    return UserInfo(ANONYMOUS, (ALL_UNAUTHENTICATED,))


def service_account_username(namespace: str, name: str) -> str:
    """``system:serviceaccount:<namespace>:<name>``: the user name of a service account."""
    return f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"


def service_account_groups(namespace: str) -> tuple[str, ...]:
    return (ALL_SERVICE_ACCOUNTS, f"{ALL_SERVICE_ACCOUNTS}:{namespace}")


class TokenRejected(Exception):
    """A recognised token that must not authenticate; the text is for logs, never for clients."""


class TokenAuthenticator:
    """Static bearer tokens, like the lines of ``--token-auth-file`` (token,user,uid,"group1,group2")."""

    def __init__(self) -> None:
        self._users: dict[str, UserInfo] = {}

    def add(self, token: str, user: UserInfo) -> None:
        if not token:
            raise ValueError("a static token must not be empty")
        self._users[token] = user

    def authenticate(self, token: str) -> UserInfo | None:
        """The user the token names, or None when this authenticator does not know the token."""
        return self._users.get(token)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


class ServiceAccountTokens:
    """Issues and verifies service account tokens (the TokenRequest API and its authenticator).

    ``lookup(namespace, name)`` returns the ServiceAccount's uid, or None if it does
    not exist: a token outlives nothing it names, so deleting (or re-creating) the
    ServiceAccount revokes every token issued for it. ``now()`` is the cluster's
    virtual clock in seconds.
    """

    def __init__(self, seed: str | bytes, lookup: Callable[[str, str], str | None], now: Callable[[], float], *,
                 issuer: str = DEFAULT_ISSUER, audiences: tuple[str, ...] | None = None,
                 extend_expiration: bool = True) -> None:
        seed_bytes = seed.encode() if isinstance(seed, str) else seed
        self._key = hashlib.sha256(b"service-account-signing-key:" + seed_bytes).digest()
        self.key_id = _b64(hashlib.sha256(self._key).digest())
        self.lookup = lookup
        self.now = now
        self.issuer = issuer
        self.audiences = audiences if audiences is not None else (issuer,)
        self.extend_expiration = extend_expiration
        self._issued = 0

    # -- issuing ------------------------------------------------------------
    def issue(self, namespace: str, name: str, uid: str, *,
              expiration_seconds: int = DEFAULT_EXPIRATION_SECONDS, audiences: tuple[str, ...] | None = None,
              pod: tuple[str, str] | None = None, node: tuple[str, str] | None = None) -> str:
        """A signed token for ServiceAccount ``namespace/name`` with ``uid``, optionally bound
        to a pod and node given as ``(name, uid)``."""
        if expiration_seconds < MIN_EXPIRATION_SECONDS:
            raise errors.invalid("TokenRequest", name, [{
                "reason": "FieldValueInvalid", "field": "spec.expirationSeconds",
                "message": f"Invalid value: {expiration_seconds}: may not specify a duration less than 10 minutes"}],
                group="authentication.k8s.io")
        issued_at = int(self.now())
        lifetime = expiration_seconds
        kubernetes_io: dict[str, Any] = {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}}
        for_the_api_server = audiences is None or set(audiences) <= set(self.audiences)
        if (self.extend_expiration and pod and for_the_api_server
                and expiration_seconds == PROJECTED_TOKEN_EXPIRATION_SECONDS):
            lifetime = EXTENDED_EXPIRATION_SECONDS
            kubernetes_io["warnafter"] = issued_at + expiration_seconds
        if pod:
            kubernetes_io["pod"] = {"name": pod[0], "uid": pod[1]}
        if node:
            kubernetes_io["node"] = {"name": node[0], "uid": node[1]}
        self._issued += 1
        claims = {
            "aud": list(audiences if audiences is not None else self.audiences),
            "exp": issued_at + lifetime,
            "iat": issued_at,
            "iss": self.issuer,
            "jti": self._jti(self._issued),
            "kubernetes.io": kubernetes_io,
            "nbf": issued_at,
            "sub": service_account_username(namespace, name),
        }
        header = _b64(_canonical({"alg": "HS256", "kid": self.key_id}))
        payload = _b64(_canonical(claims))
        return f"{header}.{payload}.{self._sign(header, payload)}"

    def _jti(self, serial: int) -> str:
        digest = hmac.new(self._key, f"jti:{serial}".encode(), hashlib.sha256).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    def _sign(self, header: str, payload: str) -> str:
        return _b64(hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest())

    # -- verifying ----------------------------------------------------------
    def authenticate(self, token: str) -> UserInfo | None:
        """The service account the token names; None if it is not a token of this issuer.

        Raises ``TokenRejected`` for a token of this issuer that fails a check.
        """
        claims = self._claims_of_this_issuer(token)
        if claims is None:
            return None
        header, payload, signature = token.split(".")
        if not hmac.compare_digest(signature, self._sign(header, payload)):
            raise TokenRejected("invalid signature")
        now = self.now()
        if not set(claims.get("aud") or ()) & set(self.audiences):
            raise TokenRejected(f"token audiences {json.dumps(claims.get('aud'))} is invalid for the target "
                                f"audiences {json.dumps(list(self.audiences))}")
        if now >= claims.get("exp", 0):
            raise TokenRejected("service account token has expired")
        if now < claims.get("nbf", 0):
            raise TokenRejected("service account token is not valid yet")
        private = claims.get("kubernetes.io") or {}
        namespace = private.get("namespace", "")
        account = private.get("serviceaccount") or {}
        name, uid = account.get("name", ""), account.get("uid", "")
        if claims.get("sub") != service_account_username(namespace, name):
            raise TokenRejected("sub claim does not match the service account claims")
        current_uid = self.lookup(namespace, name)
        if current_uid is None:
            raise TokenRejected(f'serviceaccounts "{name}" not found')
        if current_uid != uid:
            raise TokenRejected(f"service account UID ({current_uid}) does not match claim ({uid})")
        extra: dict[str, tuple[str, ...]] = {"authentication.kubernetes.io/credential-id": (f"JTI={claims['jti']}",)}
        if "pod" in private:
            extra["authentication.kubernetes.io/pod-name"] = (private["pod"]["name"],)
            extra["authentication.kubernetes.io/pod-uid"] = (private["pod"]["uid"],)
        if "node" in private:
            extra["authentication.kubernetes.io/node-name"] = (private["node"]["name"],)
            extra["authentication.kubernetes.io/node-uid"] = (private["node"]["uid"],)
        return UserInfo(service_account_username(namespace, name), service_account_groups(namespace), uid, extra)

    def _claims_of_this_issuer(self, token: str) -> dict | None:
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            claims = json.loads(_unb64(parts[1]))
        except ValueError:
            return None
        if not isinstance(claims, dict) or claims.get("iss") != self.issuer:
            return None
        return claims

    @staticmethod
    def claims(token: str) -> dict:
        """The unverified claims of a token, for display (``jwt.io`` style)."""
        return json.loads(_unb64(token.split(".")[1]))


class Authenticator:
    """The request authenticator: static tokens, then service account tokens, then anonymous."""

    def __init__(self, static: TokenAuthenticator | None = None,
                 service_accounts: ServiceAccountTokens | None = None, *, anonymous: bool = True) -> None:
        self.static = static if static is not None else TokenAuthenticator()
        self.service_accounts = service_accounts
        self.anonymous = anonymous
        self._authenticated: dict[int, tuple[UserInfo, UserInfo]] = {}
        """``id(user) -> (user, user in system:authenticated)``: a static token's user comes back every request."""

    def authenticate(self, token: str | None) -> UserInfo:
        """The user behind a bearer token (None or "" for a request without one); 401 otherwise."""
        if not token:
            if self.anonymous:
                return anonymous_user()
            raise errors.unauthorized()
        user = self._authenticate_token(token)
        if ALL_AUTHENTICATED in user.groups or ALL_UNAUTHENTICATED in user.groups:
            return user
        known = self._authenticated.get(id(user))
        if known is not None and known[0] is user:
            return known[1]                 # the same (frozen) identity as last time this user object came
        if len(self._authenticated) >= 1024:
            self._authenticated.clear()
        authenticated = user.with_group(ALL_AUTHENTICATED)
        self._authenticated[id(user)] = (user, authenticated)
        return authenticated

    def authenticate_header(self, authorization: str | None) -> UserInfo:
        """The same from an ``Authorization`` header: only ``Bearer <token>`` carries a token."""
        parts = (authorization or "").strip().split(" ", 2)
        token = parts[1] if len(parts) >= 2 and parts[0].lower() == "bearer" else None
        return self.authenticate(token)

    def _authenticate_token(self, token: str) -> UserInfo:
        rejections: list[str] = []
        user = self.static.authenticate(token)
        if user is not None:
            return user
        if self.service_accounts is not None:
            try:
                user = self.service_accounts.authenticate(token)
            except TokenRejected as rejection:
                rejections.append(str(rejection))
            if user is not None:
                return user
        cause = TokenRejected(_aggregate(rejections) if rejections else "invalid bearer token")
        logger.debug("Unable to authenticate the request: %s", cause)
        raise errors.unauthorized() from cause


def _aggregate(messages: list[str]) -> str:
    """utilerrors.NewAggregate's text: one error as is, several as ``[a, b]``."""
    return messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"
