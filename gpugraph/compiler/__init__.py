"""The plan compiler: one module per pass (schedule, build, fold, cse, fuse, copies, memory_plan, lower),
composed by gpugraph.compiler.pipeline."""
