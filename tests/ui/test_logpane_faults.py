"""The watch log pane under connection resets: every line kept once (the pane once doubled ~1,000 per reset)."""

from __future__ import annotations

import random
import uuid
from typing import Any

from textual.app import App, ComposeResult

from kftui.cluster.kubeconfig import api_client
from kftui.core.kube import LogState, pod_row
from kftui.sandbox.faults import Fault, FaultPlan
from kftui.screens.feeds import PodLogFeed
from kftui.widgets.logpane import WINDOWS, LogPane
from tests.helpers import until

PROFILE = "kubeflow-user-example-com"
ALL_WINDOW = next(i for i, w in enumerate(WINDOWS) if w.label == "all")


class PaneApp(App[None]):
    """One LogPane on the sandbox."""

    def __init__(self, kubeconfig: str) -> None:
        super().__init__()
        self.kubeconfig = kubeconfig

    def compose(self) -> ComposeResult:
        yield LogPane(PodLogFeed(lambda: api_client(path=self.kubeconfig)), window=ALL_WINDOW, id="logs-pane")


async def test_resets_at_random_offsets_leave_each_line_in_the_pane_once(sandbox: Any) -> None:
    name = f"resets-{uuid.uuid4().hex[:8]}"
    rng = random.Random(1885)
    lines = [f"step {i:05d} " + "é" * rng.randint(0, 40) for i in range(2000)]
    sandbox.kube.state.add_pod({
        "name": name, "namespace": PROFILE, "node": "gke-kubeflow-cpu-pool-3f6a2b1c-7k2x", "age_seconds": 5,
        "containers": [{"name": "main", "logs": {"lines": lines, "lines_per_stamp": 4, "stamp_spacing_ms": 250,
                                                 "history_seconds": 200}}]})
    plan = sandbox.kube.extra["faults"]
    assert isinstance(plan, FaultPlan)
    for _ in range(30):
        plan.add(Fault(service="kube", kind="reset", path=f"/api/v1/namespaces/{PROFILE}/pods/{name}/log",
                              after=rng.randint(1500, 4000), times=1))
    app = PaneApp(str(sandbox.env["KUBECONFIG"]))
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            pane = app.query_one(LogPane)
            pane.follow(pod_row(sandbox.kube.state.get("pods", PROFILE, name)))
            await until(pilot, lambda: pane.view.line_count >= len(lines) and not [
                f for f in plan.describe() if name in f["path"]], "every line through 30 resets", timeout=90)
            pane.stop()
            pane.flush()
            run = sandbox.kube.state.log_runs(PROFILE, name, "main")[-1]
            expected = run.chunk(0, len(lines), timestamps=True).decode().splitlines()
            assert list(pane.view.ring) == expected  # each line once, whole, in order
            assert pane.view.line_count == len(lines) and pane.view.ring.dropped == 0
            assert pane.received == len(lines)
            assert any(s.state == LogState.STREAMING for s in pane.statuses.values())
    finally:
        plan.clear()  # the sandbox is shared by the session: leave it healthy
