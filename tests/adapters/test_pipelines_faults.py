"""The pipelines adapters under the sandbox's fault plan: hung servers time out, garbage is an error naming the URL,
and hostile run and experiment names reach the terminal inert (JSON stays exact)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from kftui.commands.runs import run_list
from kftui.errors import KftuiError
from kftui.pipelines.client import PipelinesApiError, connect, whole_seconds
from kftui.pipelines.runs import get_run, list_runs
from kftui.sandbox.faults import Fault, parse_spec
from tests.adapters.kfp_fixtures import FAILED_RUN, KfpSandbox, demo_scenario, start_kfp

HOSTILE = "grasp\x1b]0;pwned\x07-\x1b]52;c;ZXZpbA==\x07-\x1b[5mblink\x1b[0m-\u202eabc"


@pytest.fixture
def kfp() -> Iterator[KfpSandbox]:
    """The demo KFP world with an empty fault plan, fresh for each test."""
    sandbox, stop = start_kfp(demo_scenario())
    try:
        yield sandbox
    finally:
        stop()


def test_timeouts_are_whole_seconds_because_floats_are_ignored_by_kfp_server_api() -> None:
    assert whole_seconds(3.0) == 3 and isinstance(whole_seconds(3.0), int)
    assert whole_seconds(0.2) == 1 and whole_seconds(14.5) == 15


@pytest.mark.timeout(60)
def test_a_server_that_accepts_and_never_answers_times_out(kfp: KfpSandbox) -> None:
    client = connect(kfp.url, request_timeout=1)
    kfp.world.faults.add(parse_spec("kfp:GET:/apis/v2beta1/runs=hang"))
    with pytest.raises(PipelinesApiError, match=r"no answer within 1 s") as caught:
        list_runs(client)
    assert kfp.url in str(caught.value)


@pytest.mark.timeout(60)
def test_runs_list_command_gives_up_on_a_hung_server_with_its_default_timeout(kfp: KfpSandbox) -> None:
    kfp.world.faults.add(parse_spec("kfp:GET:/apis/v2beta1/runs=hang"))
    out = io.StringIO()
    with pytest.raises(KftuiError, match=r"no answer within 15 s"):
        run_list(kfp.url, as_json=False, out=out)
    assert "no runs" not in out.getvalue()


@pytest.mark.timeout(60)
def test_kfp_clients_own_healthz_in_its_constructor_is_bounded_and_names_the_url(kfp: KfpSandbox) -> None:
    # kftui's own probe is answered (the first fault passes it through), then kfp.Client(...) asks healthz again
    # in its constructor: that second call hangs, and must end in the probe timeout with one line naming the URL.
    kfp.world.faults.add(parse_spec("kfp:GET:/apis/v2beta1/healthz=delay,delay=0,times=1"))
    kfp.world.faults.add(parse_spec("kfp:GET:/apis/v2beta1/healthz=hang,delay=50"))
    with pytest.raises(KftuiError) as caught:
        connect(kfp.url, probe_timeout=1)
    said = str(caught.value)
    assert said == f"cannot reach the pipelines API at {kfp.url}: no answer within 1 s"
    assert len(kfp.world.faults) == 1  # both healthz calls were made: the probe's and the constructor's


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("html", "answered an HTML page"),
        ("truncated", "truncated or invalid JSON"),
        ("shape", "JSON of another shape"),
        ("empty", "empty body"),
    ],
)
def test_garbage_from_the_server_is_an_error_naming_the_url_not_no_runs(kfp: KfpSandbox, kind: str, said: str) -> None:
    kfp.world.faults.add(parse_spec(f"kfp:GET:/apis/v2beta1/runs={kind}"))
    out = io.StringIO()
    with pytest.raises(KftuiError, match=said) as caught:
        run_list(kfp.url, as_json=False, out=out)
    assert kfp.url in str(caught.value) and "listing runs" in str(caught.value)
    assert out.getvalue() == ""


def test_garbage_for_one_run_is_an_error_too(kfp: KfpSandbox) -> None:
    client = connect(kfp.url)
    kfp.world.faults.add(parse_spec(f"kfp:GET:/apis/v2beta1/runs/{FAILED_RUN}=shape,times=1"))
    with pytest.raises(PipelinesApiError, match="JSON of another shape"):
        get_run(client, FAILED_RUN)
    assert get_run(client, FAILED_RUN).row.name == "train-grasp-net"  # the fault was used up


def test_healthz_answering_html_is_a_clear_connect_error(kfp: KfpSandbox) -> None:
    kfp.world.faults.add(parse_spec("kfp:GET:/apis/v2beta1/healthz=html"))
    with pytest.raises(KftuiError, match=r"cannot reach the pipelines API at .*HTML page"):
        connect(kfp.url)


def test_a_connection_reset_mid_answer_names_the_url(kfp: KfpSandbox) -> None:
    client = connect(kfp.url)
    kfp.world.faults.add(parse_spec("kfp:GET:/apis/v2beta1/runs=reset,after=20"))
    with pytest.raises(PipelinesApiError) as caught:
        list_runs(client)
    assert kfp.url in str(caught.value)


def test_server_error_text_is_inert(kfp: KfpSandbox) -> None:
    client = connect(kfp.url)
    body = json.dumps({"error": "x", "code": 13, "message": "boom \x1b]0;owned\x07 \u202eevil"})
    kfp.world.faults.add(
        Fault(service="kfp", kind="status", method="GET", path="/apis/v2beta1/runs", status=500, body=body)
    )
    with pytest.raises(PipelinesApiError) as caught:
        list_runs(client)
    text = str(caught.value)
    assert "\x1b" not in text and "\u202e" not in text and "␛]0;owned^G" in text and "<U+202E>" in text


def test_hostile_run_and_experiment_names_are_inert_in_the_table_and_exact_in_json(kfp: KfpSandbox) -> None:
    with kfp.world.lock:
        run = kfp.world.runs[FAILED_RUN]
        run.name = HOSTILE
        kfp.world.experiments[run.experiment_id].name = "exp\x1b[2J\x1b]0;t\x07"
    out = io.StringIO()
    assert run_list(kfp.url, as_json=False, out=out) == 0
    table = out.getvalue()
    assert "\x1b" not in table and "\x07" not in table and "\u202e" not in table
    line = next(line for line in table.splitlines() if line.startswith(FAILED_RUN))
    assert "grasp␛]0;pwned^G-␛]52;c;ZXZpbA==^G-␛[5mblink␛[0m-<U+202E>abc" in line
    assert "exp␛[2J␛]0;t^G" in line
    out = io.StringIO()
    assert run_list(kfp.url, as_json=True, out=out) == 0
    rows = {r["id"]: r for r in json.loads(out.getvalue())}
    assert rows[FAILED_RUN]["name"] == HOSTILE and rows[FAILED_RUN]["experiment"] == "exp\x1b[2J\x1b]0;t\x07"
