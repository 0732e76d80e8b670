"""The fault plan's spec strings and matching, which every sandbox server consults."""

import pytest

from kftui.sandbox.faults import Fault, FaultPlan, parse_spec


def test_spec_keeps_colons_in_the_path_and_reads_options() -> None:
    fault = parse_spec("serviceusage:POST:/v1/projects/*/services/*:enable=status,status=403,times=2")
    assert (fault.service, fault.method, fault.path, fault.status, fault.times) == (
        "serviceusage",
        "POST",
        "/v1/projects/*/services/*:enable",
        403,
        2,
    )


def test_empty_method_means_any_and_times_are_used_up() -> None:
    plan = FaultPlan([parse_spec("kube::/api/v1/namespaces/*/pods/*/log=reset,after=10,times=1")])
    assert plan.match("kube", "GET", "/api/v1/namespaces/a/pods/b/log") is not None
    assert plan.match("kube", "GET", "/api/v1/namespaces/a/pods/b/log") is None


def test_other_services_and_paths_do_not_match() -> None:
    plan = FaultPlan.from_data([{"service": "compute", "kind": "hang", "path": "/compute/v1/*"}])
    assert plan.match("kube", "GET", "/compute/v1/x") is None
    assert plan.match("compute", "GET", "/other") is None
    assert plan.match("compute", "GET", "/compute/v1/x") == Fault(service="compute", kind="hang", path="/compute/v1/*")


@pytest.mark.parametrize(
    ("spec", "word"),
    [("x=explode", "kind"), ("x=status,status=9", "status"), ("nothing", "SERVICE"), ("x=hang,bogus=1", "option")],
)
def test_bad_specs_name_what_is_wrong(spec: str, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        parse_spec(spec)
