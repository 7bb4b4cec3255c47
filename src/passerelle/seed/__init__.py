"""Data loaders: the demo marketplace."""
