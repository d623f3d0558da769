"""One module per step of the walk-up session."""
