"""KFP v2 sample pipelines written for the tests: each runs offline under kfp.local (install_kfp_package=False)."""
