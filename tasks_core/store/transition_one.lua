-- transition_one.lua: apply one run transition (appended to transition.lua, which defines
-- `transition`, when it is loaded: store/runs.py).
-- KEYS[1..8] and ARGV[1..25] as transition.lua's header gives them.
-- Returns transition.lua's reply.
return transition(KEYS, ARGV)
