"""The Kubernetes Dashboard in a real browser, reached the documented way: ``kubectl proxy`` and services/proxy.

The test boots a flannel cluster with the dashboard installed (its settings ConfigMap asking for a refresh
every second), serves it in real time on 127.0.0.1 (``Cluster.serve``), runs the machine's real
``kubectl proxy --port=0`` with the served kubeconfig, and opens
``http://127.0.0.1:PORT/api/v1/namespaces/kubernetes-dashboard/services/https:kubernetes-dashboard:/proxy/`` in
Debian's Chromium through Playwright (never ``playwright install``). It sees the pods listed, creates a
Deployment and sees it appear without reloading, opens a pod's logs and its YAML, and saves screenshots to
``test-artifacts/``. kubectl proxy and the served cluster are stopped in every case.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

import engine
from engine.addons import dashboard

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"
KUBECTL = shutil.which("kubectl")
PROXY_START_TIMEOUT = 30        # seconds
UI_TIMEOUT = 30_000             # milliseconds
LOG_REQUESTS = re.compile(r".*/api/v1/log/.*")
WEB = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
       "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}},
                             "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}

pytestmark = [
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                       reason=f"Debian's chromium is not installed at {CHROMIUM} (`make setup` installs it)"),
    pytest.mark.skipif(KUBECTL is None, reason="the real kubectl is not installed"),
]


class KubectlProxy:
    """``kubectl proxy --port=0`` in its own process group, on 127.0.0.1; ``port`` once it says where."""

    def __init__(self, kubeconfig: Path, home: Path) -> None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("KUBE")}
        env.update(KUBECONFIG=str(kubeconfig), HOME=str(home))
        self.process = subprocess.Popen([KUBECTL, "proxy", "--port=0", "--address=127.0.0.1"], env=env,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, start_new_session=True)
        self.port: int | None = None
        self.output: list[str] = []
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(PROXY_START_TIMEOUT) or self.port is None:
            self.stop()
            raise AssertionError("kubectl proxy did not start:\n" + "".join(self.output))

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            found = re.search(r"Starting to serve on 127\.0\.0\.1:(\d+)", line)
            if found:
                self.port = int(found.group(1))
                self._ready.set()
        self._ready.set()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def served(tmp_path):
    cluster = engine.Cluster(nodes=2, seed=0, network="flannel")
    dashboard.install(cluster)
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap",
                   "metadata": {"name": "kubernetes-dashboard-settings", "namespace": dashboard.NAMESPACE},
                   "data": {"_global": json.dumps({"resourceAutoRefreshTimeInterval": 1,
                                                   "logsAutoRefreshTimeInterval": 1})}})
    cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "hello", "namespace": "default"},
                   "spec": {"containers": [{"name": "hello", "image": "nginx:1.27"}]}})
    cluster.run(40)                      # virtual time, before serving: pulled, started, Ready
    handle = cluster.serve()
    try:
        proxy = KubectlProxy(handle.kubeconfig_path, tmp_path)
        try:
            yield cluster, proxy
        finally:
            proxy.stop()
    finally:
        handle.stop()


def test_the_dashboard_through_kubectl_proxy_lists_pods_live_with_logs_and_yaml(served):
    from playwright.sync_api import expect, sync_playwright

    cluster, proxy = served
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = None
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(UI_TIMEOUT)
            page.goto(dashboard.url(f"http://127.0.0.1:{proxy.port}") + "#/pod?namespace=default")

            # The pods of the namespace, listed by the page from the backend's JSON.
            hello = page.locator("#pods tr[data-name='hello']")
            expect(hello).to_be_visible()
            expect(hello.locator("td.state-running")).to_have_text("Running")
            expect(page.locator("#status")).to_contain_text("every 1 s")
            page.screenshot(path=str(ARTIFACTS / "dashboard-pods.png"))

            # A Deployment created now appears without a reload: in Workloads, and its pods in Pods.
            page.locator("#menu a[data-view='workloads']").click()
            expect(page.locator("#deployments")).to_be_visible()
            expect(page.locator("#deployments tr[data-name='web']")).to_have_count(0)
            cluster.apply(WEB)
            expect(page.locator("#deployments tr[data-name='web']")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "dashboard-workloads.png"))
            page.locator("#menu a[data-view='pod']").click()
            expect(page.locator("#pods tr[data-name^='web-']")).to_have_count(2)

            # A pod's logs, then its YAML, one click away.
            hello.locator("a.logs").click()
            expect(page.locator("#detail-title")).to_contain_text("Logs of default/hello (container hello)")
            expect(page.locator("#detail-body")).to_contain_text("Configuration complete; ready for start up")
            page.screenshot(path=str(ARTIFACTS / "dashboard-logs.png"))
            # The open log is fetched again every second. One such fetch is held on its way while the learner
            # clicks YAML; its late answer must not replace the YAML (CI once saw exactly that).
            held = []
            page.route(LOG_REQUESTS, lambda route: held.append(route))
            with page.expect_request(LOG_REQUESTS):
                pass
            hello.locator("a.yaml").click()
            body = page.locator("#detail-body")
            expect(body).to_contain_text("kind: Pod")
            expect(body).to_contain_text("  name: hello")
            expect(body).to_contain_text("- image: nginx:1.27")
            assert held, "no log fetch was held"
            for route in held:
                with page.expect_request_finished(lambda request: request is route.request):
                    route.fulfill(json={"info": {"podName": "hello", "containerName": "hello", "truncated": False},
                                        "logs": [{"timestamp": "", "content": "a late log line"}]})
            page.unroute(LOG_REQUESTS)
            page.evaluate("() => new Promise(resolve => setTimeout(resolve, 200))")   # the page reads the answers
            expect(body).not_to_contain_text("a late log line")
            expect(body).to_contain_text("kind: Pod")
            page.screenshot(path=str(ARTIFACTS / "dashboard-yaml.png"))
        except Exception:
            if page is not None:
                page.screenshot(path=str(ARTIFACTS / "dashboard-failure.png"))
            raise
        finally:
            browser.close()
