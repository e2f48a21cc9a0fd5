"""ecgscope.synthesis layer (see DESIGN.md)."""
