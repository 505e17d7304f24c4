"""The `sotewatch` subcommands by concern; `pipeline/cli.py` is the group that holds them."""
