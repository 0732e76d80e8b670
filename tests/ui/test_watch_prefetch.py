"""`kftui watch` with its first pod list made by a forked child: the same table, then the same live watch."""

from __future__ import annotations

import gc
import os
from typing import Any

import pytest

from kftui.app import KftuiApp
from kftui.factory import Options, Services
from tests.helpers import until

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the prefetch child needs os.fork (not on Windows)")

SIZE = (120, 40)


async def test_the_handed_over_list_fills_the_table_and_the_watch_goes_on_from_it(env: Any) -> None:
    services = Services(Options(), now=lambda: env.epoch)
    services.prefetch_pods()
    assert services.pod_prefetch_pending()
    app = KftuiApp(services=services, mode="watch", persist=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen: Any = app.screen
            await until(pilot, lambda: screen.pods_live and len(screen.rows) >= 10, what="pods from the child")
            assert not services.pod_prefetch_pending()  # taken once
            assert "kubeflow-user-example-com/gpu-notebook-0" in screen.rows
            feed = screen.feeds["pods"]
            await until(pilot, feed.painted.is_set, what="the first rows drawn")
            # the watch builds its client only after the first rows are drawn, then follows the cluster
            await until(pilot, lambda: feed.watcher is not None and feed.watcher.client is not None,
                        what="the watch connected after the first paint")
            await until(pilot, lambda: screen.selected_key is not None, what="the first pod selected")
            table = screen.query_one("#pods")
            assert table.row_count == len(screen.rows)
    finally:
        services.drop_pod_prefetch()


async def test_without_a_child_the_screen_lists_itself(env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFTUI_PREFETCH", "0")
    services = Services(Options(), now=lambda: env.epoch)
    services.prefetch_pods()
    assert not services.pod_prefetch_pending()
    app = KftuiApp(services=services, mode="watch", persist=False)
    async with app.run_test(size=SIZE) as pilot:
        screen: Any = app.screen
        await until(pilot, lambda: screen.pods_live and len(screen.rows) >= 10, what="pods listed in-process")
        assert "kubeflow-user-example-com/gpu-notebook-0" in screen.rows


async def test_a_list_already_handed_over_is_in_the_first_frame(env: Any) -> None:
    """When the child is done by the time the screen mounts, its rows are filed before the first paint, and the
    watch's first snapshot (the same rows) is not folded in a second time."""
    services = Services(Options(), now=lambda: env.epoch)
    services.prefetch_pods()
    assert services.pod_prefetch_ready(30), "the child lists the still sandbox in well under 30 s"
    app = KftuiApp(services=services, mode="watch", persist=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen: Any = app.screen
            feed = screen.feeds["pods"]
            assert len(screen.rows) >= 10 and feed.live, "filed at mount, before any watch thread ran"
            version = feed.model.version
            await until(pilot, lambda: feed.handed is None, what="the watch's first snapshot")
            await until(pilot, lambda: feed.watcher is not None and feed.watcher.client is not None,
                        what="the watch connected")
            await pilot.pause(0.2)
            assert feed.model.version == version, "the handed rows were not folded in again"
            assert screen.query_one("#pods").row_count == len(screen.rows)
    finally:
        services.drop_pod_prefetch()


async def test_the_header_names_the_context_the_child_read(env: Any, tmp_path: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Launch reads the child's first word before the UI starts: the header names the context and its cluster
    from it, with no kubeconfig read on this side (here this side could not read one)."""
    services = Services(Options(), now=lambda: env.epoch)
    services.prefetch_pods()
    assert services.pod_kubeconfig_problem() == ""
    named = services.pod_kubeconfig_scope()
    assert named is not None
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "gone"))  # what this process would read now is not there
    app = KftuiApp(services=services, mode="watch", persist=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen: Any = app.screen
            await pilot.pause(0.2)
            assert named[0] in screen.sub_title and "current context" not in screen.sub_title
    finally:
        services.drop_pod_prefetch()


async def test_the_app_turns_collection_back_on_after_its_first_frame(env: Any) -> None:
    """Launch pauses the collector; the app resumes it once it has drawn (freezing what start-up built)."""
    gc.unfreeze()  # nothing frozen before: the count below is the app's doing
    gc.disable()
    try:
        app = KftuiApp(services=Services(Options(), now=lambda: env.epoch), mode="watch", persist=False)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, gc.isenabled, what="the collector back on")
            assert gc.get_freeze_count() > 0
    finally:
        gc.enable()
        gc.unfreeze()
