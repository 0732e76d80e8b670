"""Turns raw error text and API objects into a Diagnosis with the fix."""

from kftui.diagnose.engine import causes, diagnose, diagnose_events, diagnose_exception
from kftui.diagnose.registry import Rule, all_rules, rule

__all__ = ["Rule", "all_rules", "causes", "diagnose", "diagnose_events", "diagnose_exception", "rule"]
