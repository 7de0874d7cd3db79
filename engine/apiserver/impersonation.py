"""User impersonation (``kubectl --as=jane --as-group=dev``): acting as another user, if RBAC allows it.

A request may carry ``Impersonate-User`` and ``Impersonate-Group`` headers.
kube-apiserver's impersonation filter first authenticates the requester,
then asks the authorizer whether the requester may ``impersonate`` the
``users`` (or ``serviceaccounts``) and ``groups`` named, and only then
serves the request as the impersonated identity, which RBAC judges from
there on. That is how an administrator checks what someone else may do
(``kubectl auth can-i delete pods --as=jane``).

The HTTP front carries identities as bearer tokens, so the filter's result
is a token standing for the impersonated user (made once per identity and
never shown); the rest of the pipeline is unchanged.
"""

from __future__ import annotations

import secrets

from engine.apiserver.authn import ALL_AUTHENTICATED, SERVICE_ACCOUNT_PREFIX, UserInfo
from engine.apiserver.rbac import Attributes, forbidden_error
from engine.apiserver.server import PRIVILEGED_GROUP, APIServer


def _targets(user: str, groups: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(resource, namespace, name) the requester must be allowed to impersonate."""
    if user.startswith(SERVICE_ACCOUNT_PREFIX) and user.count(":") == 3:
        namespace, name = user[len(SERVICE_ACCOUNT_PREFIX):].split(":")
        targets = [("serviceaccounts", namespace, name)]
    else:
        targets = [("users", "", user)]
    return targets + [("groups", "", group) for group in groups]


def impersonation_token(server: APIServer, tokens: dict[tuple[str, tuple[str, ...]], str], token: str | None,
                        user: str, groups: tuple[str, ...] = ()) -> str:
    """A token for ``user`` in ``groups`` if the bearer of ``token`` may impersonate them; else 403."""
    requester = server.authenticator.authenticate(token)
    if PRIVILEGED_GROUP not in requester.groups:
        for resource, namespace, name in _targets(user, groups):
            attrs = Attributes(user=requester, verb="impersonate", namespace=namespace, api_group="",
                               resource=resource, name=name)
            decision = server.authorizer.authorize(attrs)
            if not decision.allowed:
                raise forbidden_error(attrs, decision.reason)
    key = (user, tuple(groups))
    if key not in tokens:
        tokens[key] = secrets.token_hex(16)
        server.authenticator.static.add(tokens[key], UserInfo(user, (*groups, ALL_AUTHENTICATED)))
    return tokens[key]
