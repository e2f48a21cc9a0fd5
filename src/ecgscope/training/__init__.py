"""ecgscope.training layer (see DESIGN.md)."""
