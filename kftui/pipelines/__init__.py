"""Adapters over `kfp`: runs, experiments, task-to-pod mapping, local runs."""
