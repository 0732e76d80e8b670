"""Rebuild kftui/core/data/roles.json from Google's predefined role table (../shared/data), trimmed to kftui's APIs.

Usage: python scripts/build_roles.py [SOURCE.json.gz] [--check]

The shipped table keeps, for every predefined role of the services kftui calls (plus the four roles without a
service: browser, viewer, editor, owner), its title, launch stage, total permission count and the permissions
it grants in those services, grouped by service. Service-agent roles are left out (Google grants them to its
own agents, never to people), and so are job-function bundles spanning many services.
`--check` exits 1 when the shipped file differs from what the source would give (for CI).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "gcp-predefined-roles.json.gz"
TARGET = ROOT / "kftui" / "core" / "data" / "roles.json"

SERVICES = (
    "artifactregistry",
    "billing",
    "clientauthconfig",
    "cloudquotas",
    "compute",
    "container",
    "iam",
    "iap",
    "logging",
    "monitoring",
    "oauthconfig",
    "resourcemanager",
    "serviceusage",
    "storage",
)
"""The permission prefixes of every API kftui, its deploy and Kubeflow on GKE use."""

BROAD = 15
"""Roles granting permissions in this many services are job-function bundles (roles/iam.infrastructureAdmin,
roles/iam.securityReviewer ...), never the smallest fix; single-service roles top out at 13 (billing.admin)."""


def service_of(role_id: str) -> str:
    """roles/compute.viewer -> compute; roles/owner -> '' (a role without a service)."""
    name = role_id.removeprefix("roles/")
    return name.split(".", 1)[0] if "." in name else ""


def trim(source: dict[str, Any]) -> dict[str, Any]:
    """The roles kftui may suggest, each with only the permissions of kftui's services."""
    wanted = set(SERVICES)
    roles: dict[str, Any] = {}
    for role_id in sorted(source):
        entry = source[role_id]
        if "serviceagent" in role_id.lower():
            continue
        svc = service_of(role_id)
        if svc and svc not in wanted:
            continue
        everything = entry.get("permissions", [])
        if svc and len({p.split(".", 1)[0] for p in everything}) >= BROAD:
            continue
        grants: dict[str, list[str]] = {}
        for permission in sorted(everything):
            head, _, rest = permission.partition(".")
            if head in wanted:
                grants.setdefault(head, []).append(rest)
        if not grants:
            continue
        roles[role_id] = {
            "title": str(entry.get("title", "")),
            "stage": str(entry.get("stage", "GA")),
            "size": len(everything),
            "grants": grants,
        }
    return {
        "about": (
            "Google Cloud predefined IAM roles (iann0036/iam-dataset, mirroring Google's published list, "
            "taken 2026-08-22), trimmed by scripts/build_roles.py to the services listed here; size is the "
            "role's full permission count."
        ),
        "services": list(SERVICES),
        "roles": roles,
    }


def render(table: dict[str, Any]) -> str:
    """One role per line: small diffs when Google changes a role."""
    lines = ["{", f'"about": {json.dumps(table["about"])},', f'"services": {json.dumps(table["services"])},']
    lines.append('"roles": {')
    items = list(table["roles"].items())
    for i, (role_id, entry) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"{json.dumps(role_id)}: {json.dumps(entry, separators=(',', ':'))}{comma}")
    lines.append("}}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) the trimmed table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--check", action="store_true", help="only compare with the shipped file")
    args = parser.parse_args(argv)
    if not args.source.exists():
        print(f"source: {args.source} does not exist (the shared role table)", file=sys.stderr)
        return 2
    with gzip.open(args.source, "rt", encoding="utf-8") as handle:
        source = json.load(handle)
    text = render(trim(source))
    if args.check:
        same = TARGET.exists() and TARGET.read_text(encoding="utf-8") == text
        print("roles.json is up to date" if same else "roles.json differs from the source: rebuild it")
        return 0 if same else 1
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}: {len(trim(source)['roles'])} roles")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
