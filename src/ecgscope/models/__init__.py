"""ecgscope.models layer (see DESIGN.md)."""
