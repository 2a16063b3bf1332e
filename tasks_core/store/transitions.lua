-- transitions.lua: apply several run transitions in one call, in order, each as
-- transition.lua applies one (appended to it when it is loaded: store/runs.py). One call
-- instead of one per transition saves Redis the script's set-up and arguments per change
-- (about 14 us each, measured) and the client a command per change.
-- KEYS[8 * (i - 1) + 1 .. 8 * i]   the i-th transition's KEYS (transition.lua's header)
-- ARGV[25 * (i - 1) + 1 .. 25 * i] the i-th transition's ARGV
-- Each change runs under pcall: one that fails (an error reply: a full Redis, a bad value)
-- is that change's reply, and the others still apply, as separate calls would.
-- Returns an array: per transition, its transition.lua reply or its error.
local replies = {}
for i = 0, #KEYS / 8 - 1 do
  local k = {unpack(KEYS, 8 * i + 1, 8 * i + 8)}
  local a = {unpack(ARGV, 25 * i + 1, 25 * i + 25)}
  local ok, reply = pcall(transition, k, a)
  if ok then
    replies[#replies + 1] = reply
  elseif type(reply) == 'table' and reply.err then
    replies[#replies + 1] = reply
  else
    replies[#replies + 1] = {err = 'ERR ' .. tostring(reply)}
  end
end
return replies
