import pytest

from engine.runtime.cri import CriError
from engine.runtime.images import (
    ERR_IMAGE_NEVER_PULL,
    PULL_ALWAYS,
    PULL_IF_NOT_PRESENT,
    PULL_NEVER,
    default_pull_policy,
    normalize,
    pull_decision,
)


@pytest.mark.parametrize(
    "reference, full",
    [
        ("nginx", "docker.io/library/nginx:latest"),
        ("nginx:1.14.2", "docker.io/library/nginx:1.14.2"),
        ("bitnami/redis", "docker.io/bitnami/redis:latest"),
        ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"),
        ("localhost:5000/app", "localhost:5000/app:latest"),
    ],
    ids=[
        "a bare name is an official Docker Hub image tagged latest",
        "a tag is kept",
        "a user repository on Docker Hub has no library prefix",
        "a registry host is kept",
        "a host with a port is a registry, not a tag",
    ],
)
def test_references_normalize_like_docker(reference, full):
    assert normalize(reference) == full


@pytest.mark.parametrize(
    "reference, seconds",
    [
        ("nginx:1.27", 0.5 + 5.0),
        ("registry.k8s.io/pause:3.10", 0.5 + 0.03),
    ],
    ids=[
        "a 50 MB image over 10 MB/s takes the resolve round trip plus five seconds",
        "a tiny image is ready just after the resolve",
    ],
)
def test_a_pull_takes_the_time_its_bytes_need(loop, images, reference, seconds):
    pending = images.pull_image(reference)
    loop.run_until(seconds - 0.01)
    assert not pending.done()
    loop.run_until(seconds + 0.001)
    assert pending.result().startswith("sha256:")
    assert images.image_status(reference) is not None


def test_a_second_image_downloads_only_the_layers_the_node_lacks(loop, images):
    images.pull_image("nginx:1.27")
    loop.run_for(10)
    before = images.bytes_downloaded
    start = loop.now
    pending = images.pull_image("httpd:2.4")
    loop.run_until(start + 0.5 + 2.5 + 0.001)
    assert pending.done()
    assert images.bytes_downloaded - before == 25_000_000


def test_two_pulls_at_once_share_a_layer_and_share_the_link(loop, images):
    nginx = images.pull_image("nginx:1.27")
    httpd = images.pull_image("httpd:2.4")
    loop.run_for(20)
    # base (3 s), nginx top (2 s), httpd top (2.5 s) in turn, over one link
    assert images.bytes_downloaded == 75_000_000
    assert nginx.done() and httpd.done()
    assert loop.history[-1][0] == pytest.approx(0.5 + 7.5)


def test_pulling_an_image_already_present_is_only_the_resolve(loop, images):
    images.pull_image("nginx:1.27")
    loop.run_for(10)
    again = images.pull_image("docker.io/library/nginx:1.27")
    loop.run_for(0.5)
    assert again.done()


@pytest.mark.parametrize(
    "reference, code, desc",
    [
        (
            "nginxx",
            "Unknown",
            (
                'failed to pull and unpack image "docker.io/library/nginxx:latest": failed to resolve reference '
                '"docker.io/library/nginxx:latest": pull access denied, repository does not exist or may require '
                "authorization: server message: insufficient_scope: authorization failed"
            ),
        ),
        (
            "nginx:1.99",
            "NotFound",
            (
                'failed to pull and unpack image "docker.io/library/nginx:1.99": failed to resolve reference '
                '"docker.io/library/nginx:1.99": docker.io/library/nginx:1.99: not found'
            ),
        ),
        (
            "registry.k8s.io/nope:1.0",
            "NotFound",
            (
                'failed to pull and unpack image "registry.k8s.io/nope:1.0": failed to resolve reference '
                '"registry.k8s.io/nope:1.0": registry.k8s.io/nope:1.0: not found'
            ),
        ),
    ],
    ids=[
        "a misspelt Docker Hub repository is refused as containerd words it",
        "a missing tag of a known repository is NotFound",
        "a missing image on another registry is NotFound",
    ],
)
def test_pulling_an_unknown_image_fails_with_containerds_error(loop, images, reference, code, desc):
    pending = images.pull_image(reference)
    loop.run_for(1)
    with pytest.raises(CriError) as failure:
        pending.result()
    assert failure.value.code == code
    assert str(failure.value) == f"rpc error: code = {code} desc = {desc}"


def test_list_and_remove_images_keep_shared_layers(loop, images):
    images.pull_image("nginx:1.27")
    images.pull_image("httpd:2.4")
    loop.run_for(20)
    listed = images.list_images()
    assert sorted(tag for image in listed for tag in image.repo_tags) == [
        "docker.io/library/httpd:2.4",
        "docker.io/library/nginx:1.27",
    ]
    assert {image.size for image in listed} == {50_000_000, 55_000_000}
    images.remove_image("nginx:1.27")
    assert images.image_status("nginx:1.27") is None
    assert images.image_fs_used_bytes() == 55_000_000
    images.remove_image("nginx:1.27")  # idempotent


@pytest.mark.parametrize(
    "image, policy",
    [("nginx", PULL_ALWAYS), ("nginx:latest", PULL_ALWAYS), ("nginx:1.27", PULL_IF_NOT_PRESENT)],
    ids=["no tag means Always", "latest means Always", "a pinned tag means IfNotPresent"],
)
def test_the_default_pull_policy(image, policy):
    assert default_pull_policy(image) == policy


@pytest.mark.parametrize(
    "policy, present, decision",
    [
        (PULL_ALWAYS, True, "pull"),
        (PULL_IF_NOT_PRESENT, True, "use"),
        (PULL_IF_NOT_PRESENT, False, "pull"),
        (PULL_NEVER, True, "use"),
        (PULL_NEVER, False, ERR_IMAGE_NEVER_PULL),
    ],
    ids=[
        "Always pulls even when the image is there",
        "IfNotPresent uses the image on the node",
        "IfNotPresent pulls a missing image",
        "Never uses the image on the node",
        "Never with no image is ErrImageNeverPull",
    ],
)
def test_the_pull_decision(policy, present, decision):
    assert pull_decision(policy, present) == decision


def test_the_kubelet_messages_around_pulls(loop, images):
    from engine.runtime.images import back_off_message, pull_failed_message

    pending = images.pull_image("nginx:1.99")
    loop.run_for(1)
    assert pull_failed_message("nginx:1.99", pending.error()).startswith(
        'Failed to pull image "nginx:1.99": rpc error: code = NotFound desc = failed to pull and unpack image '
    )
    assert back_off_message("nginxx") == 'Back-off pulling image "nginxx"'
