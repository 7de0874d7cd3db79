"""Kind and UserInfo hash once: the remembered hash is the dataclass's, so equal values still find each other."""

from __future__ import annotations

import dataclasses

from engine.api.kinds import REGISTRY
from engine.apiserver.authn import UserInfo


def test_a_kind_hashes_as_its_fields_and_equal_kinds_find_each_other() -> None:
    pods = REGISTRY.lookup("pods")
    assert hash(pods) == hash(tuple(getattr(pods, item.name) for item in dataclasses.fields(pods)))
    assert hash(pods) == hash(pods)                     # remembered
    copy = dataclasses.replace(pods)
    assert copy == pods and {pods: "pods"}[copy] == "pods"
    other = dataclasses.replace(pods, plural="pods2")
    assert other != pods and other not in {pods: 1}


def test_a_user_hashes_as_name_groups_and_uid() -> None:
    user = UserInfo("alice", ("dev",), "1", {"scope": ("a",)})
    assert hash(user) == hash(("alice", ("dev",), "1"))
    assert {user: 1}[UserInfo("alice", ("dev",), "1", {"scope": ("a",)})] == 1
    assert UserInfo("alice", ("dev",), "1") not in {user: 1}       # extra is compared, not hashed
    assert user.with_group("ops") != user
