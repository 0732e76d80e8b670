"""Run the sandbox as its own process, so its servers never compete with the UI for the GIL.

Prints one line `READY <json env>` once everything listens (or, with `--env sh|fish|json`, the environment in a
form a person pastes into another shell), then serves until stdin closes or a signal.
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import threading
from pathlib import Path

from kftui.sandbox import Sandbox
from kftui.sandbox.faults import parse_spec

ENV_FORMATS = ("sh", "fish", "json")


def _fish_quote(value: str) -> str:
    """fish's single quotes: only a backslash and a quote need escaping."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def announce(env: dict[str, str], form: str | None) -> str:
    """`READY <json>` for a parent process; with --env, lines a person pastes into another shell."""
    if form is None:
        return "READY " + json.dumps(env)
    if form == "json":
        return json.dumps(env)
    head = "# the kftui sandbox is up: paste these lines into another shell (Ctrl-C here stops it)"
    if form == "fish":
        return "\n".join([head, *(f"set -gx {key} {_fish_quote(value)}" for key, value in env.items())])
    return "\n".join([head, *(f"export {key}={shlex.quote(value)}" for key, value in env.items())])


def main(argv: list[str] | None = None) -> int:
    """Start, announce the environment, wait for the end."""
    parser = argparse.ArgumentParser(prog="python -m kftui.sandbox", description=__doc__)
    parser.add_argument("--scenario", default="demo", help="built-in scenario name or a directory")
    parser.add_argument("--workdir", required=True, type=Path, help="where credentials and kubeconfig go")
    parser.add_argument("--still", action="store_true", help="no timed changes (for screenshots)")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="plan a failure, SERVICE[:METHOD][:PATH_GLOB]=KIND[,key=value...] (repeatable; see kftui.sandbox.faults)",
    )
    parser.add_argument("--until-stdin-closes", action="store_true", help="exit when stdin reaches EOF")
    parser.add_argument(
        "--env", choices=ENV_FORMATS, help="print the environment as export lines for sh or fish, or as JSON"
    )
    args = parser.parse_args(argv)
    try:
        faults = [parse_spec(spec) for spec in args.fault]
    except ValueError as exc:
        parser.error(f"--fault: {exc}")
    try:
        sandbox = Sandbox(args.scenario, args.workdir, still=args.still, faults=faults)
        env = sandbox.start()
    except Exception as exc:  # report one line to the parent process
        print(f"FAILED {type(exc).__name__}: {exc}", flush=True)
        return 1
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    if args.until_stdin_closes:

        def wait_stdin() -> None:
            sys.stdin.read()
            done.set()

        threading.Thread(target=wait_stdin, daemon=True).start()
    print(announce(env, args.env), flush=True)
    if args.fault:
        print(f"FAULTS {len(faults)} planned; change them at {sandbox.gcp.url}/_sandbox/faults", file=sys.stderr)
    done.wait()
    sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
