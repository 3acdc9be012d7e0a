"""Shipped configuration: `local.yaml` is the embedded default every command starts from."""
