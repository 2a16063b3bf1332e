-- apply_each.lua: the loop of the scripts that apply one step to several items in one call
-- (creates.lua, transitions.lua): prepended to them when they are loaded (store/runs.py).
-- KEYS[] / ARGV[]: the items' own, `nkeys` and `nargs` each, one item after another.
-- Each item runs under pcall: one that fails (an error reply: a full Redis, a bad value)
-- is that item's reply, and the others still apply, as separate calls would.
-- Returns (apply_each) an array: per item, `fn`'s reply or its error.
local function apply_each(fn, nkeys, nargs)
  local replies = {}
  for i = 0, #KEYS / nkeys - 1 do
    local k = {unpack(KEYS, nkeys * i + 1, nkeys * i + nkeys)}
    local a = {unpack(ARGV, nargs * i + 1, nargs * i + nargs)}
    local ok, reply = pcall(fn, k, a)
    if ok then
      replies[#replies + 1] = reply
    elseif type(reply) == 'table' and reply.err then
      replies[#replies + 1] = reply
    else
      replies[#replies + 1] = {err = 'ERR ' .. tostring(reply)}
    end
  end
  return replies
end
