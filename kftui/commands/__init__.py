"""Bodies of the CLI subcommands, imported lazily by `kftui.cli` so `--help` stays light."""
