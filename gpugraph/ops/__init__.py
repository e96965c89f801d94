"""The op library: one OpDef record per op (see registry.py), one module per family."""
