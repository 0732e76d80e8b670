"""Turns raw error text and API objects into a Diagnosis with the fix."""
