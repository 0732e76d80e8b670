"""The one place that builds real clients from the environment (endpoints, ADC, kubeconfig)."""
