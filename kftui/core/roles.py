"""The smallest predefined IAM roles that grant given permissions, looked up in Google's own role table.

The table (`kftui/core/data/roles.json`, rebuilt by `scripts/build_roles.py`) lists every predefined role of the
services kftui uses with the permissions it grants there. Nothing here guesses from a permission's prefix: a
permission the table does not know gets no role.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

BASIC = frozenset({"roles/owner", "roles/editor", "roles/viewer"})
"""Google's basic roles: they cover almost anything and are suggested only when nothing narrower does."""

NOT_FOR_PEOPLE = frozenset({"roles/iam.workloadIdentityUser"})
"""Roles Google documents for workloads (a Kubernetes service account impersonating a Google one), never people."""

_READ_VERBS = ("get", "list", "search", "query", "read", "watch", "view", "check", "test", "lookup")


@dataclass(frozen=True, slots=True)
class Role:
    """One predefined role as the table has it."""

    id: str
    title: str
    stage: str
    size: int
    """How many permissions the role grants in total, in all services."""
    permissions: frozenset[str]
    """The permissions it grants in the services kftui uses."""

    @property
    def service(self) -> str:
        """roles/compute.viewer -> compute; roles/browser -> the one service it grants in; '' for basic roles."""
        name = self.id.removeprefix("roles/")
        if "." in name:
            return name.split(".", 1)[0]
        services = {p.split(".", 1)[0] for p in self.permissions}
        return services.pop() if len(services) == 1 else ""

    @property
    def general_availability(self) -> bool:
        """GA and not marked beta, legacy or deprecated in its title (roles/compute.instanceAdmin is '(beta)')."""
        title = self.title.lower()
        return self.stage == "GA" and not any(w in title for w in ("beta", "legacy", "deprecated"))

    @property
    def writes(self) -> int:
        """Permissions that change something: fewer is a smaller grant even when the role lists more reads."""
        return sum(1 for p in self.permissions if not p.rsplit(".", 1)[-1].lower().startswith(_READ_VERBS))


@lru_cache(maxsize=1)
def table() -> dict[str, Role]:
    """The shipped role table, read once."""
    raw = json.loads(resources.files("kftui.core").joinpath("data/roles.json").read_text(encoding="utf-8"))
    found: dict[str, Role] = {}
    for role_id, entry in raw["roles"].items():
        permissions = frozenset(f"{svc}.{rest}" for svc, rests in entry["grants"].items() for rest in rests)
        found[role_id] = Role(role_id, entry["title"], entry["stage"], int(entry["size"]), permissions)
    return found


@lru_cache(maxsize=1)
def _canonical() -> dict[str, str]:
    """Lower-cased permission -> its real spelling (errors write iam.serviceaccounts.actAs)."""
    return {p.lower(): p for role in table().values() for p in role.permissions}


@lru_cache(maxsize=1)
def _granting() -> dict[str, tuple[str, ...]]:
    """Permission -> the roles that grant it."""
    index: dict[str, list[str]] = {}
    for role in table().values():
        for permission in role.permissions:
            index.setdefault(permission, []).append(role.id)
    return {k: tuple(v) for k, v in index.items()}


def canonical(permission: str) -> str | None:
    """The table's spelling of a permission, whatever its case; None when no role grants it."""
    return _canonical().get(permission.strip().strip("'\"‘’“”").lower())


def roles_granting(permission: str) -> list[str]:
    """Every role in the table that grants the permission, smallest first."""
    name = canonical(permission)
    if name is None:
        return []
    return sorted(_granting().get(name, ()), key=lambda r: _rank(table()[r], {name}))


def _rank(role: Role, wanted: set[str]) -> tuple[bool, bool, bool, bool, int, int, str]:
    """Order of preference: people-grantable, not basic, GA, of the permissions' own service, fewest writes, size."""
    services = {p.split(".", 1)[0] for p in wanted}
    return (
        role.id in NOT_FOR_PEOPLE,
        role.id in BASIC,
        not role.general_availability,
        role.service not in services,
        role.writes,
        role.size,
        role.id,
    )


def _cost(role: Role, wanted: set[str]) -> float:
    """What granting the role gives away: its size, more for each write, far more for preview or foreign roles."""
    services = {p.split(".", 1)[0] for p in wanted}
    cost = float(role.size + 1000 * role.writes)  # a read-only role is smaller than any role that changes things
    if not role.general_availability:
        cost += 100_000
    if role.service not in services:
        cost += 100_000
    return cost


def smallest_roles(permissions: Iterable[str]) -> list[str]:
    """The fewest, smallest predefined roles that together grant every permission the table knows.

    One role covering all is preferred (the best by rank) unless it gives away more than twice what a cover
    of several narrow roles does (size, writes, preview or foreign roles weigh in). The cover is a weighted
    greedy one (each pick the role that gives away least per still-missing permission it grants), with roles
    made redundant by later picks dropped. Basic roles (owner, editor, viewer) and roles meant for workloads
    appear only when nothing else grants a permission. Permissions no role in the table grants are left out.
    """
    wanted: set[str] = set()
    for permission in permissions:
        name = canonical(permission) if isinstance(permission, str) else None
        if name is not None:
            wanted.add(name)
    if not wanted:
        return []
    roles = table()
    candidates = {r for p in wanted for r in _granting().get(p, ())}
    narrow = {r for r in candidates if r not in BASIC and r not in NOT_FOR_PEOPLE}
    whole = [r for r in narrow if wanted <= roles[r].permissions]
    cover = _cover(wanted, candidates, narrow)
    if whole:
        one = min(whole, key=lambda r: (_cost(roles[r], wanted), _rank(roles[r], wanted)))
        if _cost(roles[one], wanted) <= 2 * sum(_cost(roles[r], wanted) for r in cover):
            return [one]  # one grant is simpler, unless it gives away far more than the cover
    return cover


def _cover(wanted: set[str], candidates: set[str], narrow: set[str]) -> list[str]:
    """A weighted greedy cover of the permissions, without roles the others make redundant."""
    roles = table()
    missing = set(wanted)
    chosen: list[str] = []
    while missing:
        pool = [r for r in narrow if roles[r].permissions & missing] or [
            r for r in candidates if roles[r].permissions & missing
        ]
        best = min(
            pool,
            key=lambda r: (
                _cost(roles[r], wanted) / len(roles[r].permissions & missing),
                _rank(roles[r], missing),
            ),
        )
        chosen.append(best)
        missing -= roles[best].permissions
    for role_id in sorted(chosen, key=lambda r: -roles[r].size):  # drop what the others already grant
        rest = [r for r in chosen if r != role_id]
        granted = set().union(*(roles[r].permissions for r in rest)) if rest else set()
        if wanted <= granted:
            chosen = rest
    return chosen


def smallest_role(permission: str) -> str | None:
    """The one smallest role granting a single permission, or None when the table has none."""
    found = smallest_roles([permission])
    return found[0] if found else None


def role_title(role: str) -> str:
    """A role's Console title from the table, else its id."""
    found = table().get(role)
    return found.title if found else role


def covers(role: str, permissions: Iterable[str]) -> bool:
    """Whether one role grants every listed permission (unknown permissions count as not granted)."""
    found = table().get(role)
    if found is None:
        return False
    return all((name := canonical(p)) is not None and name in found.permissions for p in permissions)
