"""HPAChart: an HPA's replicas and utilization sampled from the API server, drawn as SVG."""

import dataclasses

import engine
from engine.components import COMPONENTS
from engine.controllers.podautoscaler_metrics import FixedResourceMetrics
from engine.viz.hpa_chart import HPAChart


def test_samples_follow_the_hpa_status_and_draw_both_panels():
    holder = {}
    metrics = FixedResourceMetrics(lambda: holder["cluster"].now)
    manager = dataclasses.replace(COMPONENTS[0], options={"metrics_source": metrics})
    cluster = holder["cluster"] = engine.Cluster(nodes=0, seed=0, components=[manager, COMPONENTS[1]])
    cluster.kubectl("create deployment web --image=nginx")
    cluster.kubectl("autoscale deployment web --max=4 --cpu-percent=60")
    chart = HPAChart(cluster, "web")
    assert "no samples yet" in chart.svg()
    first = chart.observe()
    cluster.run(30)
    second = chart.observe(load="busy")
    assert (first.replicas, first.utilization, chart.target, chart.bounds) == (0, None, 60, (1, 4))
    assert second.time == first.time + 30 and second.load == "busy"
    svg = chart._repr_svg_()
    assert svg.startswith("<svg") and "cpu % of request" in svg and "target 60" in svg and "max 4" in svg
    assert ">busy</text>" in svg
    assert chart.rows().splitlines()[0].split() == ["time", "replicas", "desired", "cpu", "load"]
