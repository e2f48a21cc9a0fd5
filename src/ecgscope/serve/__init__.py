"""ecgscope.serve layer (see DESIGN.md)."""
