"""Zone names Google does not know, most often a region given where a zone belongs."""

from __future__ import annotations

import re

from kftui.core.diagnosis import Diagnosis, Fix
from kftui.diagnose import values as v
from kftui.diagnose.advice import q
from kftui.diagnose.normalize import Problem
from kftui.diagnose.registry import rule

_REGION_ONLY = re.compile(r"[a-z]+-[a-z]+\d{1,2}")


@rule("invalid-zone", priority=66)
def invalid_zone(p: Problem, ctx: v.Context) -> Diagnosis | None:
    """'Unknown zone' with a region's name: zones are the region plus a letter (us-east1 -> us-east1-b)."""
    m = p.search(r"invalid value for field 'zone': '(?P<zone>[\w-]{1,63})'\. unknown zone")
    if m is None:
        return None
    zone = m.group("zone").lower()
    region = zone if _REGION_ONLY.fullmatch(zone) else None
    project, _ = v.project(p, ctx)
    region_words = (
        f"'{zone}' is a region, not a zone: zones are a region plus a letter, such as {zone}-b"
        if region
        else f"'{zone}' is not a zone Google knows (mistyped, or a zone that does not exist)"
    )
    listing = f"--filter=region:{region}" if region else ""
    return Diagnosis(
        cause="invalid-zone",
        title=f"'{zone}' is not a zone" + (" (it is a region)" if region else ""),
        explanation=(
            f"Google refused the request because {region_words}. Commands that take --zone need a zone; GKE "
            "clusters can also be regional with --region. For GPUs pick a zone that offers your GPU type."
        ),
        facts=v.facts(zone=zone, region=region, project=project),
        fixes=(
            Fix(
                title=f"List the zones{' of ' + region if region else ''}",
                command=f"gcloud compute zones list {listing} --project={q(v.or_placeholder(project, 'project'))}"
                .replace("  ", " "),
            ),
        ),
    )
