"""ecgscope.analysis layer (see DESIGN.md)."""
