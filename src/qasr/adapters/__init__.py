"""Implementations of the ports. Each subpackage imports its heavy dependency itself."""
