-- create_one.lua: write one new run (appended to create.lua, which defines `create`, when it
-- is loaded: store/runs.py).
-- KEYS[1..5] and ARGV[1..14] as create.lua's header gives them.
-- Returns create.lua's reply: 1 when created, 0 when the id existed already.
return create(KEYS, ARGV)
