"""Controls advance virtual time; state_at and TimeTravel show the cluster as it was at a revision."""

from __future__ import annotations

import asyncio

import pytest

from engine.viz.cluster_view import ClusterView
from engine.viz.controls import Controls, TimeTravel, kind_of_key, revision_writer, state_at


def names(objects):
    return sorted(obj["metadata"]["name"] for obj in objects)


def test_a_tick_advances_the_clock_by_the_speed_and_refreshes_the_views(cluster, pods):
    view = ClusterView(cluster)
    controls = Controls(cluster, views=[view], speed=2.5)
    before = cluster.now
    cluster.admin.create(pods.make("web", node="node-1"))
    controls.tick()
    assert cluster.now == pytest.approx(before + 2.5)
    assert 'data-pod="default/web"' in view.body.value
    assert f"{cluster.now:.2f}" in controls.status.value


def test_the_step_button_ticks(cluster):
    controls = Controls(cluster, speed=1.0)
    before = cluster.now
    controls.step_button.click()
    assert cluster.now == pytest.approx(before + 1.0)


def test_play_ticks_on_the_running_asyncio_loop_until_paused(cluster):
    controls = Controls(cluster, speed=10.0, interval=0.01)
    before = cluster.now

    async def scenario() -> None:
        controls.play()
        assert controls.playing and controls.pause_button.disabled is False
        await asyncio.sleep(0.1)
        controls.pause()

    asyncio.run(scenario())
    assert not controls.playing
    assert cluster.now >= before + 10.0
    stopped_at = cluster.now
    controls.pause()
    assert cluster.now == stopped_at


def test_play_without_a_running_loop_says_to_step_instead(cluster):
    controls = Controls(cluster)
    controls.play()
    assert not controls.playing
    assert "use step" in controls.status.value


def test_a_tick_that_fails_while_playing_pauses_and_reports(cluster):
    class Broken:
        def refresh(self) -> None:
            raise RuntimeError("view exploded")

    controls = Controls(cluster, views=[Broken()], interval=0.01)

    async def scenario() -> None:
        controls.play()
        await asyncio.sleep(0.05)

    asyncio.run(scenario())
    assert not controls.playing
    assert "view exploded" in controls.status.value


@pytest.mark.parametrize("key, plural", [
    ("/registry/pods/default/web", "pods"),
    ("/registry/minions/node-1", "nodes"),
    ("/registry/services/specs/default/kubernetes", "services"),
    ("/registry/services/endpoints/default/kubernetes", "endpoints"),
    ("/registry/deployments/default/web", "deployments"),
], ids=["pods are stored under their plural", "nodes are stored under minions, as in Kubernetes",
        "services live under services/specs", "endpoints under services/endpoints, not taken for services",
        "apps kinds are found too"])
def test_the_kind_of_an_etcd_key_comes_from_its_prefix(cluster, key, plural):
    assert kind_of_key(cluster, key).plural == plural


def test_state_at_an_old_revision_lacks_later_objects_and_keeps_later_deleted_ones(cluster, pods):
    cluster.admin.create(pods.make("doomed", node="node-1"))
    before = cluster.store.revision
    cluster.admin.create(pods.make("newcomer", node="node-2"))
    cluster.admin.delete("pods", "doomed", "default", grace_period_seconds=0)
    cluster.run(1)
    then = state_at(cluster, before)
    assert "doomed" in names(then["pods"])
    assert "newcomer" not in names(then["pods"])
    now = state_at(cluster, cluster.store.revision)
    assert "newcomer" in names(now["pods"]) and "doomed" not in names(now["pods"])
    assert names(then["nodes"]) == sorted(cluster.node_names)
    assert "kubernetes" in names(then["services"])


def test_state_at_can_read_only_some_kinds(cluster):
    state = state_at(cluster, cluster.store.revision, kinds=("no", "pods"))
    assert set(state) == {"nodes", "pods"}


@pytest.mark.parametrize("revision", [0, 10_000], ids=["revision zero does not exist",
                                                       "a future revision does not exist"])
def test_state_at_refuses_revisions_it_cannot_read(cluster, revision):
    with pytest.raises(ValueError, match="choose one from"):
        state_at(cluster, revision)


def test_state_at_a_compacted_revision_names_the_oldest_readable_one(cluster):
    cluster.store.compact(cluster.store.revision - 5)
    with pytest.raises(ValueError, match="compacted"):
        state_at(cluster, 3)


def test_the_time_travel_slider_redraws_the_past(cluster, pods):
    travel = TimeTravel(cluster)
    before = cluster.store.revision
    cluster.admin.create(pods.make("web", node="node-1"))
    created = cluster.store.revision
    travel.refresh()
    assert travel.slider.max == created and travel.slider.value == created
    assert 'data-pod="default/web"' in travel.body.value
    assert "kubernetes-admin create pods default" in travel.info.value
    travel.slider.value = before
    assert 'data-pod="default/web"' not in travel.body.value
    assert travel.slider.min == cluster.store.compact_revision + 1


def test_revision_writer_names_the_request_that_wrote_a_revision(cluster, pods):
    cluster.admin.create(pods.make("web", node="node-1"))
    assert "kubernetes-admin create pods default" in revision_writer(cluster, cluster.store.revision)


def test_a_cache_of_decoded_versions_changes_nothing_but_speed(cluster, pods):
    cluster.admin.create(pods.make("web", node="node-1"))
    cache: dict = {}
    first = state_at(cluster, cluster.store.revision, kinds=("pods", "nodes"), cache=cache)
    again = state_at(cluster, cluster.store.revision, kinds=("pods", "nodes"), cache=cache)
    plain = state_at(cluster, cluster.store.revision, kinds=("pods", "nodes"))
    assert first == again == plain
    assert again["pods"][0] is first["pods"][0]


def test_a_failing_step_click_is_reported_in_the_status_line_not_raised(cluster):
    class Broken:
        def refresh(self) -> None:
            raise RuntimeError("view exploded")

    controls = Controls(cluster, views=[Broken()])
    controls.step_button.click()
    assert "view exploded" in controls.status.value


def test_time_travel_outlines_what_the_chosen_revision_wrote(cluster, pods):
    cluster.admin.create(pods.make("first", node="node-1"))
    written = cluster.store.revision
    cluster.admin.create(pods.make("second", node="node-1"))
    travel = TimeTravel(cluster)
    travel.slider.value = written
    assert 'kv-phase-pending kv-changed" data-pod="default/first"' in travel.body.value
