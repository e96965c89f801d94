"""Running graphs: backends, plan compiler, Session."""
