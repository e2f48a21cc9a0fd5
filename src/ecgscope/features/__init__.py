"""ecgscope.features layer (see DESIGN.md)."""
