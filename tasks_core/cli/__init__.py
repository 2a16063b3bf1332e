"""The `tasks-core` command line: one module per resource."""
