"""The plan compiler's passes, one module each (prune, CSE, ...); gpugraph/runtime/plan.py composes them."""
