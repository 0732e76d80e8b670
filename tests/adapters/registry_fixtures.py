"""The sandbox's container registry on a loop thread of its own, for the image and notebook tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from kftui.sandbox import SCENARIOS
from kftui.sandbox import registry as fake
from kftui.sandbox.base import Served


@contextmanager
def running_registry() -> Iterator[Served]:
    """The demo scenario's registry, served until the block ends."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="registry-sandbox", daemon=True)
    thread.start()
    served = asyncio.run_coroutine_threadsafe(fake.serve(fake.load_scenario(SCENARIOS / "demo")), loop).result(30)
    try:
        yield served
    finally:
        asyncio.run_coroutine_threadsafe(served.close(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
