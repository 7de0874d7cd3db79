"""The images the Kubernetes docs' examples use, published into a Registry with realistic sizes.

``register_all(registry)`` adds every image below; layer sizes are the
compressed sizes of the real linux/amd64 images (rounded), and images built
on the same base share its layers, so pulling ``nginx`` after ``httpd`` only
downloads nginx's own layers. Which program each image runs:
    busybox, alpine, ubuntu, debian, centos    -> the small sh (``shell``)
    polinux/stress, vish/stress, redis, fluentd, course/{memory-hog,cpu-burner,crasher} -> ``misc``
    nginx, nginx-slim, httpd, hello-app, http-echo, agnhost, liveness       -> ``webserver``
    registry.k8s.io/hpa-example (Apache + index.php burning CPU per request) -> ``php_apache``
    perl, python                                                               -> ``batch``
"""

from __future__ import annotations

from engine.runtime.images import Layer, Registry
from engine.runtime.programs import batch, misc, php_apache, webserver
from engine.runtime.programs.base import Program
from engine.runtime.programs.shell import ShellProgram

MB = 1_000_000

DEBIAN_BOOKWORM = Layer("sha256:" + "a1" * 32, 29 * MB)
ALPINE = Layer("sha256:" + "a2" * 32, 3_600_000)


def register_all(registry: Registry) -> Registry:
    """Publish the catalogue into ``registry`` and return it."""
    _shells(registry)
    _misc(registry)
    _web(registry)
    _batch(registry)
    return registry


def _shells(registry: Registry) -> None:
    shell: dict[str, list[str]] = {"entrypoint": [], "cmd": ["sh"]}
    for tag in ("latest", "1.36", "1.28", "1.37"):
        registry.register(f"busybox:{tag}", ShellProgram, size=2_200_000, **shell)
    registry.register("registry.k8s.io/busybox", ShellProgram, size=1_100_000, **shell)
    registry.register("registry.k8s.io/busybox:1.27.2", ShellProgram, size=1_100_000, **shell)
    registry.register("gcr.io/google-containers/busybox", ShellProgram, size=1_100_000, **shell)
    for tag in ("latest", "3.19", "3.20", "3.21"):
        registry.register(f"alpine:{tag}", ShellProgram, layers=[ALPINE], **shell)
    for tag in ("latest", "bookworm", "12"):
        registry.register(f"debian:{tag}", ShellProgram, layers=[DEBIAN_BOOKWORM], cmd=["bash"])
    for tag in ("latest", "22.04", "24.04"):
        registry.register(f"ubuntu:{tag}", ShellProgram, size=29_700_000, cmd=["/bin/bash"])
    registry.register("centos:7", ShellProgram, size=76 * MB, cmd=["/bin/bash"])
    for tag in ("5", "latest"):                 # the Job pod failure policy examples' docker.io/library/bash:5
        registry.register(f"bash:{tag}", ShellProgram, layers=[ALPINE], size=6_300_000, cmd=["bash"])


def _misc(registry: Registry) -> None:
    registry.register("polinux/stress", misc.Stress, size=4_000_000, entrypoint=[], cmd=["stress"])
    registry.register("vish/stress", misc.CpuStress, size=3_200_000, entrypoint=["/stress"], cmd=["-logtostderr"])
    for tag in ("latest", "7", "7.4", "6.2"):
        registry.register(f"redis:{tag}", misc.Redis, layers=[DEBIAN_BOOKWORM], size=16 * MB,
                          cmd=["redis-server"])
    registry.register("quay.io/fluentd_elasticsearch/fluentd:v2.5.2", misc.Fluentd, layers=[DEBIAN_BOOKWORM],
                      size=110 * MB, entrypoint=["/entrypoint.sh"])                 # the DaemonSet docs' example
    registry.register("course/memory-hog:1.0", misc.MemoryHog, layers=[ALPINE], size=1 * MB)
    registry.register("course/cpu-burner:1.0", misc.CpuBurner, layers=[ALPINE], size=1 * MB)
    registry.register("course/crasher:1.0", misc.Crasher, layers=[ALPINE], size=1 * MB)


def _web(registry: Registry) -> None:
    for tag in ("latest", "1.7.9", "1.14.2", "1.16.1", "1.24", "1.25", "1.26", "1.27", "1.27.3", "1.28", "stable"):
        registry.register(f"nginx:{tag}", webserver.Nginx, layers=[DEBIAN_BOOKWORM], size=43 * MB,
                          entrypoint=["/docker-entrypoint.sh"], cmd=["nginx", "-g", "daemon off;"],
                          stop_signal=webserver.SIGQUIT)
    for tag in ("alpine", "1.27-alpine"):
        registry.register(f"nginx:{tag}", webserver.Nginx, layers=[ALPINE], size=17 * MB,
                          entrypoint=["/docker-entrypoint.sh"], cmd=["nginx", "-g", "daemon off;"],
                          stop_signal=webserver.SIGQUIT)
    for tag, size in (("0.8", 20 * MB), ("0.21", 26 * MB), ("0.24", 26 * MB)):     # the StatefulSet tutorial's
        registry.register(f"registry.k8s.io/nginx-slim:{tag}", webserver.Nginx, size=size,
                          cmd=["nginx", "-g", "daemon off;"], stop_signal=webserver.SIGQUIT)
    for tag in ("latest", "2.4"):
        registry.register(f"httpd:{tag}", webserver.Httpd, layers=[DEBIAN_BOOKWORM], size=29 * MB,
                          cmd=["httpd-foreground"], stop_signal=28)   # STOPSIGNAL SIGWINCH: graceful stop
    for host in ("gcr.io/google-samples", "us-docker.pkg.dev/google-samples/containers/gke"):
        registry.register(f"{host}/hello-app:1.0", webserver.HelloApp, size=11 * MB, cmd=["/hello-app"])
        registry.register(f"{host}/hello-app:2.0", webserver.HelloApp2, size=11 * MB, cmd=["/hello-app"])
    for tag in ("latest", "1.0", "0.2.3"):
        registry.register(f"hashicorp/http-echo:{tag}", webserver.HttpEcho, size=3 * MB, entrypoint=["/http-echo"])
    for tag in ("2.39", "2.40", "2.45", "2.52"):
        registry.register(f"registry.k8s.io/e2e-test-images/agnhost:{tag}", webserver.Agnhost, size=51 * MB,
                          entrypoint=["/agnhost"], cmd=["netexec"])
    registry.register("registry.k8s.io/liveness", webserver.Liveness, size=3 * MB, cmd=["/server"])
    registry.register("registry.k8s.io/hpa-example", php_apache.HpaExample, size=137 * MB,   # php:5-apache's size
                      cmd=["apache2-foreground"], stop_signal=php_apache.SIGWINCH)
    for tag in ("3.1", "3.9", "3.10"):             # 3.1: the topology spread and scheduling docs' placeholder pods
        registry.register(f"registry.k8s.io/pause:{tag}", _Pause, size=320_000, entrypoint=["/pause"])


def _batch(registry: Registry) -> None:
    for tag in ("latest", "5.34", "5.34.0", "5.40"):
        registry.register(f"perl:{tag}", batch.Perl, layers=[DEBIAN_BOOKWORM], size=300 * MB,
                          cmd=["perl5.34.0", "-de0"])
    for tag in ("latest", "3", "3.12", "3.13"):
        registry.register(f"python:{tag}", batch.Python, layers=[DEBIAN_BOOKWORM], size=340 * MB, cmd=["python3"])
    for tag in ("3.12-slim", "3.13-slim"):
        registry.register(f"python:{tag}", batch.Python, layers=[DEBIAN_BOOKWORM], size=16 * MB, cmd=["python3"])


class _Pause(Program):
    """The pause container: sleeps forever, exits 0 on SIGTERM (it has a handler)."""

    def on_signal(self, signal: int) -> None:
        self.ctx.exit(0)
