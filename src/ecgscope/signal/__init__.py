"""ecgscope.signal layer (see DESIGN.md)."""
