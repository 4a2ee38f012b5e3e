"""What the operator sees: overlays, annotated pictures, and the drawable canvas's JSON."""
