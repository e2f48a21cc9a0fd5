"""ecgscope.datasets layer (see DESIGN.md)."""
