"""Workflows as data: definitions, the static gate proof, the `transitions` wrapper, diagrams. Pure."""
