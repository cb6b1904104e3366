"""Command-line interface: thin typer apps that parse, call the library and render."""
