"""Pure data and logic shared by every layer: no I/O, no clients, no UI."""
