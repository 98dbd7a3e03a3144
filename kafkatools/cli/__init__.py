"""Command-line tools, one module per tool.  The only layer where typer and rich appear."""
