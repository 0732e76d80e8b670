"""Container logs as pure functions of time: static lines, a training ticker, a flood; each line timestamped."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

NS = 1_000_000_000
STATIC_SPACING_NS = 1_000_000  # 1 ms between static lines: unique, increasing timestamps
FLOOD_SPACING_NS = 1_000  # 1 us between flood lines
FLOOD_CACHE_BYTES = 512 * 1024 * 1024
"""A flood is a pure function of its start time: kept after the first read, so every later reader (kubectl or
kftui, in the log bench) gets it at memory speed and the generator is never what a comparison measures."""


class LogRun:
    """One run of one container: which lines exist at a given instant and what they say."""

    def __init__(self, spec: Mapping[str, Any] | None, start_ns: int | None = None) -> None:
        """Read a log spec: {lines, lines_per_stamp, stamp_spacing_ms, ticker: {interval_ms, delay_ms}, flood,
        history_seconds, close_after_*}."""
        spec = dict(spec or {})
        self.spec = spec
        self.start_ns = (time.time_ns() if start_ns is None else start_ns) - int(
            float(spec.get("history_seconds", 0)) * NS
        )
        self.static: list[str] = [str(x) for x in spec.get("lines") or []]
        self.per_stamp = max(1, int(spec.get("lines_per_stamp", 1)))
        """Static lines sharing one timestamp (a burst written within the runtime clock's resolution)."""
        self.static_spacing_ns = int(float(spec.get("stamp_spacing_ms", STATIC_SPACING_NS / 1_000_000)) * 1_000_000)
        ticker = spec.get("ticker")
        if ticker is True:
            ticker = {}
        self.ticker_ns: int | None = (
            int(float(ticker.get("interval_ms", 500)) * 1_000_000) if isinstance(ticker, Mapping) else None
        )
        delay = float(ticker.get("delay_ms", 0)) if isinstance(ticker, Mapping) else 0.0
        self.ticker_name = str(ticker.get("job", "resnet50")) if isinstance(ticker, Mapping) else "resnet50"
        self.flood = int(spec.get("flood", 0))
        self.flood_width = int(spec.get("flood_width", 60))
        self.close_after_lines = int(spec["close_after_lines"]) if spec.get("close_after_lines") else None
        self.close_after_seconds = (
            float(spec["close_after_seconds"]) if spec.get("close_after_seconds") else None
        )
        stamps = -(-len(self.static) // self.per_stamp)
        self.gen_start_ns = self.start_ns + stamps * self.static_spacing_ns + int(delay * 1_000_000)
        self.ended_at: int | None = None  # line count when the container stopped
        self._prefix_cache: dict[int, str] = {}
        self._flood_cache: dict[tuple[int, int, bool], bytes] = {}
        self._flood_cached = 0

    def end(self, now_ns: int | None = None) -> None:
        """The container stopped: no line after this instant will ever exist."""
        if self.ended_at is None:
            self.ended_at = self.available(now_ns)

    def total(self) -> int | None:
        """How many lines this run will ever have (None: endless)."""
        if self.ended_at is not None:
            return self.ended_at
        if self.ticker_ns is not None:
            return None
        return len(self.static) + self.flood

    def available(self, now_ns: int | None = None) -> int:
        """Lines written by `now_ns`."""
        now = time.time_ns() if now_ns is None else now_ns
        count = len(self.static) + self.flood
        if self.ticker_ns is not None and now >= self.gen_start_ns:
            count = len(self.static) + (now - self.gen_start_ns) // self.ticker_ns + 1
        if self.ended_at is not None:
            count = min(count, self.ended_at)
        return count

    def time_of(self, i: int) -> int:
        """The timestamp (ns) of line i; increasing with i (strictly unless static lines share stamps)."""
        s = len(self.static)
        if i < s:
            return self.start_ns + (i // self.per_stamp) * self.static_spacing_ns
        j = i - s
        if self.ticker_ns is not None:
            return self.gen_start_ns + j * self.ticker_ns
        return self.gen_start_ns + j * FLOOD_SPACING_NS

    def next_time(self, i: int) -> int | None:
        """When line i will appear (None: never, unless the run restarts)."""
        total = self.total()
        if total is not None and i >= total:
            return None
        return self.time_of(i)

    def first_at_or_after(self, ts_ns: int, hi: int) -> int:
        """Index of the first line with timestamp >= ts_ns among the first `hi` lines."""
        lo = 0
        while lo < hi:
            mid = (lo + hi) // 2
            if self.time_of(mid) < ts_ns:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def text(self, i: int) -> str:
        """The content of line i (without timestamp)."""
        s = len(self.static)
        if i < s:
            return self.static[i]
        j = i - s
        if self.ticker_ns is not None:
            return ticker_line(j, self.ticker_name)
        return f"flood line {j:08d} " + "x" * self.flood_width

    def _stamp(self, ns: int) -> str:
        """RFC3339Nano, caching the per-second prefix (the flood formats a million of these)."""
        sec, frac = divmod(ns, NS)
        prefix = self._prefix_cache.get(sec)
        if prefix is None:
            if len(self._prefix_cache) > 64:
                self._prefix_cache.clear()
            prefix = datetime.fromtimestamp(sec, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")
            self._prefix_cache[sec] = prefix
        return f"{prefix}{frac:09d}Z "

    def _nano(self, ns: int) -> str:
        """Go's RFC3339Nano, as the kubelet writes it: trailing zeros of the fraction trimmed (and a bare dot)."""
        full = self._stamp(ns)
        head, frac = full[:20], full[20:29].rstrip("0")
        return f"{head}{frac}Z " if frac else f"{head[:-1]}Z "

    def _stamped_flood(self, a: int, b: int, base: int, s: int, pad: str) -> Iterator[str]:
        """Timestamped flood lines, one second's run at a time, so the stamp costs no more than the text."""
        i = a
        while i < b:
            sec, frac = divmod(base + i * FLOOD_SPACING_NS, NS)
            prefix = self._stamp(sec * NS)[:-11]  # "YYYY-MM-DDTHH:MM:SS." for this second
            n = min(b - i, (NS - frac + FLOOD_SPACING_NS - 1) // FLOOD_SPACING_NS)
            step, first = FLOOD_SPACING_NS, i - s
            yield "".join(
                [f"{prefix}{frac + k * step:09d}Z flood line {first + k:08d} {pad}\n" for k in range(n)]
            )
            i += n

    def chunk(self, a: int, b: int, timestamps: bool) -> bytes:
        """Lines [a, b) as bytes, newline-terminated, optionally timestamp-prefixed."""
        s = len(self.static)
        if self.ticker_ns is None and a >= s and self.flood:
            pad = "x" * self.flood_width
            base = self.gen_start_ns - s * FLOOD_SPACING_NS
            key = (a, b, timestamps)
            data = self._flood_cache.get(key)
            if data is None:
                if timestamps:
                    text = "".join(self._stamped_flood(a, b, base, s, pad))
                else:
                    text = "".join([f"flood line {i - s:08d} {pad}\n" for i in range(a, b)])
                data = text.encode()
                if self._flood_cached + len(data) <= FLOOD_CACHE_BYTES:
                    self._flood_cache[key] = data
                    self._flood_cached += len(data)
            return data
        if timestamps:
            return "".join(f"{self._nano(self.time_of(i))}{self.text(i)}\n" for i in range(a, b)).encode()
        return "".join(f"{self.text(i)}\n" for i in range(a, b)).encode()


def ticker_line(j: int, job: str = "resnet50") -> str:
    """A plausible training log line for step j: epoch, step, loss, accuracy, GPU memory, throughput."""
    steps = 500
    epoch, step = divmod(j, steps)
    progress = j / (steps * 10)
    loss = 2.3 * math.exp(-3 * progress) + 0.05 + 0.03 * math.sin(j * 0.7)
    acc = min(0.99, 0.1 + 0.85 * (1 - math.exp(-3 * progress)) + 0.01 * math.sin(j * 1.3))
    mem = 10.2 + 0.4 * math.sin(j * 0.05)
    thr = 812 + int(25 * math.sin(j * 0.9))
    return (
        f"INFO {job} epoch {epoch + 1}/90 step {step + 1}/{steps} loss={loss:.4f} acc={acc:.4f} "
        f"lr=0.1000 gpu0_mem={mem:.1f}GiB/15.0GiB throughput={thr} img/s"
    )
