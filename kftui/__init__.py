"""kftui: from an empty Google Cloud project to Kubeflow with GPUs, then a live cockpit."""

__version__ = "0.1.0"
