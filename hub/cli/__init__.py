"""The ``chorus`` command line, one module per command group."""
