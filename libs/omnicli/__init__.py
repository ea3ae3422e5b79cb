"""The ``omni`` command line: development stack, migrations, tokens, contracts, operations."""
