"""ecgscope.explain layer (see DESIGN.md)."""
