-- transitions.lua: apply several run transitions in one call, in order, each as
-- transition.lua applies one (appended to transition.lua and apply_each.lua when it is
-- loaded: store/runs.py). One call instead of one per transition saves Redis the script's
-- set-up and arguments per change (about 14 us each, measured) and the client a command
-- per change.
-- KEYS[8 * (i - 1) + 1 .. 8 * i]   the i-th transition's KEYS (transition.lua's header)
-- ARGV[25 * (i - 1) + 1 .. 25 * i] the i-th transition's ARGV
-- Returns an array: per transition, its transition.lua reply or its error (apply_each.lua).
return apply_each(transition, 8, 25)
