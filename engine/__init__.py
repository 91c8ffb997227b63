"""Credit Lab's training engine: tasks, architectures and credit rules in pure PyTorch (no web imports)."""
