"""The ways in: terminal, HTTP API, web chat view."""
