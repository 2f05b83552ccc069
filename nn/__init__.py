"""nn: neural-network modules, losses, optimizers and the lecture's classic learning rules, on autodiff."""
