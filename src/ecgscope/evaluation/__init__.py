"""ecgscope.evaluation layer (see DESIGN.md)."""
