"""Adapters over the `kubernetes` client: kubeconfig, pods, watches, logs, events, notebooks."""
