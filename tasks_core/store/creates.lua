-- creates.lua: write several new runs in one call, in order, each as create.lua writes one
-- (appended to create.lua and apply_each.lua when it is loaded: store/runs.py): a
-- `.map()`'s runs, a chunk at a time.
-- KEYS[5 * (i - 1) + 1 .. 5 * i]    the i-th run's KEYS (create.lua's header)
-- ARGV[14 * (i - 1) + 1 .. 14 * i]  the i-th run's ARGV
-- Returns an array: per run, 1 (created), 0 (the id existed) or its error (apply_each.lua).
return apply_each(create, 5, 14)
