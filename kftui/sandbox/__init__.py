"""The sandbox: loopback servers that speak GCP REST, the Kubernetes API and KFP v2beta1.

It is the outside world for kftui, so it imports nothing else from the package.
"""

from __future__ import annotations
