"""REST routers, one per resource; thin: validation by models, work in named functions."""
