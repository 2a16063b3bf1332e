"""`make demo`: the local stack on the embedded Redis, showing every workflow pattern."""
