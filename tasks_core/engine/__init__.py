"""The run engine: begin -> call -> success | retry | failure | timeout | crash."""
