"""``python -m hub.cli``: the same command line as ``chorus``."""

from hub.cli.main import main

main()
