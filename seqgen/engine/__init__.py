"""The generic engine: tensors, heads, batching, training and sampling. It knows no domain."""
