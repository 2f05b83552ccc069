"""viz: drawings of autodiff graphs with every value and gradient, step by step through the backward pass."""
