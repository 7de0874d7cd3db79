"""Authentication: static tokens, service account tokens, anonymous requests and the 401s."""

from __future__ import annotations

import pytest

from engine.api import errors
from engine.apiserver.authn import (
    Authenticator,
    ServiceAccountTokens,
    TokenAuthenticator,
    UserInfo,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Accounts:
    """ServiceAccounts by namespace/name -> uid, as the API server's cache would answer."""

    def __init__(self) -> None:
        self.uids = {("default", "builder"): "uid-builder", ("kube-system", "replicaset-controller"): "uid-rs"}

    def __call__(self, namespace: str, name: str) -> str | None:
        return self.uids.get((namespace, name))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts() -> Accounts:
    return Accounts()


@pytest.fixture
def tokens(clock: Clock, accounts: Accounts) -> ServiceAccountTokens:
    return ServiceAccountTokens("seed-0", accounts, clock)


@pytest.fixture
def authenticator(tokens: ServiceAccountTokens) -> Authenticator:
    static = TokenAuthenticator()
    static.add("admin-token", UserInfo("kubernetes-admin", ("system:masters",)))
    static.add("alice-token", UserInfo("alice", ("dev",), uid="1001"))
    return Authenticator(static, tokens)


def unauthorized_cause(authenticator: Authenticator, token: str | None) -> str:
    with pytest.raises(errors.Unauthorized) as caught:
        authenticator.authenticate(token)
    assert caught.value.status == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                   "message": "Unauthorized", "reason": "Unauthorized", "code": 401}
    return str(caught.value.__cause__) if caught.value.__cause__ else ""


@pytest.mark.parametrize("token, expected", [
    pytest.param("alice-token", UserInfo("alice", ("dev", "system:authenticated"), uid="1001"),
                 id="a static token names its user and gains system:authenticated after its own groups"),
    pytest.param("admin-token", UserInfo("kubernetes-admin", ("system:masters", "system:authenticated")),
                 id="the admin token is in system:masters"),
    pytest.param(None, UserInfo("system:anonymous", ("system:unauthenticated",)),
                 id="a request without a token is the anonymous user"),
    pytest.param("", UserInfo("system:anonymous", ("system:unauthenticated",)),
                 id="an empty token counts as no token"),
])
def test_authenticate(authenticator: Authenticator, token: str | None, expected: UserInfo) -> None:
    assert authenticator.authenticate(token) == expected


def test_an_unknown_token_is_401_never_anonymous(authenticator: Authenticator) -> None:
    assert unauthorized_cause(authenticator, "guess") == "invalid bearer token"


def test_anonymous_auth_can_be_disabled() -> None:
    assert unauthorized_cause(Authenticator(anonymous=False), None) == ""


@pytest.mark.parametrize("header, expected_name", [
    pytest.param("Bearer alice-token", "alice", id="a Bearer header carries the token"),
    pytest.param("bearer alice-token", "alice", id="the Bearer scheme is case-insensitive"),
    pytest.param("Basic YWxpY2U6cHc=", "system:anonymous", id="another scheme carries no token"),
    pytest.param(None, "system:anonymous", id="no header is anonymous"),
])
def test_authenticate_header(authenticator: Authenticator, header: str | None, expected_name: str) -> None:
    assert authenticator.authenticate_header(header).name == expected_name


def test_service_account_token_round_trip(authenticator: Authenticator, tokens: ServiceAccountTokens) -> None:
    token = tokens.issue("default", "builder", "uid-builder")
    user = authenticator.authenticate(token)
    assert user.name == "system:serviceaccount:default:builder"
    assert user.groups == ("system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated")
    assert user.uid == "uid-builder"
    assert list(user.extra) == ["authentication.kubernetes.io/credential-id"]


def test_service_account_token_is_shaped_like_the_real_bound_token(tokens: ServiceAccountTokens) -> None:
    token = tokens.issue("default", "builder", "uid-builder", expiration_seconds=3600,
                         pod=("web-0", "uid-pod"), node=("node-1", "uid-node"))
    claims = ServiceAccountTokens.claims(token)
    assert claims == {
        "aud": ["https://kubernetes.default.svc.cluster.local"],
        "exp": 4600, "iat": 1000, "nbf": 1000,
        "iss": "https://kubernetes.default.svc.cluster.local",
        "jti": claims["jti"],
        "kubernetes.io": {"namespace": "default",
                          "serviceaccount": {"name": "builder", "uid": "uid-builder"},
                          "pod": {"name": "web-0", "uid": "uid-pod"},
                          "node": {"name": "node-1", "uid": "uid-node"}},
        "sub": "system:serviceaccount:default:builder",
    }
    assert token.count(".") == 2


def test_the_same_seed_issues_the_same_tokens(clock: Clock, accounts: Accounts) -> None:
    first = ServiceAccountTokens("seed-0", accounts, clock).issue("default", "builder", "uid-builder")
    again = ServiceAccountTokens("seed-0", accounts, clock).issue("default", "builder", "uid-builder")
    other = ServiceAccountTokens("seed-1", accounts, clock).issue("default", "builder", "uid-builder")
    assert first == again != other


def test_a_pod_token_of_3607_seconds_lasts_a_year_but_warns_after_the_hour(tokens: ServiceAccountTokens) -> None:
    claims = ServiceAccountTokens.claims(tokens.issue("default", "builder", "uid-builder",
                                                      expiration_seconds=3607, pod=("web-0", "uid-pod")))
    assert claims["exp"] - claims["iat"] == 365 * 24 * 3600
    assert claims["kubernetes.io"]["warnafter"] == 1000 + 3607


@pytest.mark.parametrize("change, cause", [
    pytest.param(lambda c, a: a.uids.pop(("default", "builder")), 'serviceaccounts "builder" not found',
                 id="a token whose ServiceAccount was deleted is rejected"),
    pytest.param(lambda c, a: a.uids.update({("default", "builder"): "uid-new"}),
                 "service account UID (uid-new) does not match claim (uid-builder)",
                 id="a token of a deleted and re-created ServiceAccount is rejected"),
    pytest.param(lambda c, a: setattr(c, "now", 1000 + 3600), "service account token has expired",
                 id="a token is rejected once the virtual clock reaches exp"),
])
def test_service_account_token_rejected(authenticator: Authenticator, tokens: ServiceAccountTokens,
                                        clock: Clock, accounts: Accounts, change, cause: str) -> None:
    token = tokens.issue("default", "builder", "uid-builder")
    change(clock, accounts)
    assert unauthorized_cause(authenticator, token) == cause


def test_a_token_one_second_before_exp_still_authenticates(authenticator: Authenticator,
                                                             tokens: ServiceAccountTokens, clock: Clock) -> None:
    token = tokens.issue("default", "builder", "uid-builder")
    clock.now = 1000 + 3599
    assert authenticator.authenticate(token).name == "system:serviceaccount:default:builder"


def test_a_tampered_token_is_rejected(authenticator: Authenticator, tokens: ServiceAccountTokens) -> None:
    header, _, signature = tokens.issue("default", "builder", "uid-builder").split(".")
    forged = tokens.issue("kube-system", "replicaset-controller", "uid-rs").split(".")[1]
    assert unauthorized_cause(authenticator, f"{header}.{forged}.{signature}") == "invalid signature"


def test_a_token_signed_by_another_cluster_is_rejected(authenticator: Authenticator, clock: Clock,
                                                       accounts: Accounts) -> None:
    token = ServiceAccountTokens("other-seed", accounts, clock).issue("default", "builder", "uid-builder")
    assert unauthorized_cause(authenticator, token) == "invalid signature"


def test_a_token_for_another_audience_is_rejected(authenticator: Authenticator,
                                                  tokens: ServiceAccountTokens) -> None:
    token = tokens.issue("default", "builder", "uid-builder", audiences=("vault",))
    assert unauthorized_cause(authenticator, token) == (
        'token audiences ["vault"] is invalid for the target audiences '
        '["https://kubernetes.default.svc.cluster.local"]')


def test_token_request_refuses_less_than_ten_minutes(tokens: ServiceAccountTokens) -> None:
    with pytest.raises(errors.Invalid) as caught:
        tokens.issue("default", "builder", "uid-builder", expiration_seconds=599)
    assert caught.value.message == ('TokenRequest.authentication.k8s.io "builder" is invalid: '
                                    "spec.expirationSeconds: Invalid value: 599: "
                                    "may not specify a duration less than 10 minutes")


def test_static_tokens_are_tried_before_service_account_tokens(tokens: ServiceAccountTokens) -> None:
    token = tokens.issue("default", "builder", "uid-builder")
    static = TokenAuthenticator()
    static.add(token, UserInfo("shadow"))
    assert Authenticator(static, tokens).authenticate(token).name == "shadow"
