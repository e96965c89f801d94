"""Graph, Operation, Tensor, shapes, dtypes, devices: building graphs touches no arrays."""
