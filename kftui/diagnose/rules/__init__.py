"""One module per family of errors; every module-level Rule here is registered by discovery."""
