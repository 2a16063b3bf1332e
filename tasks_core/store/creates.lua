-- creates.lua: write several new runs in one call, in order, each as create.lua writes one
-- (appended to it when it is loaded: store/runs.py): a `.map()`'s runs, a chunk at a time.
-- KEYS[5 * (i - 1) + 1 .. 5 * i]    the i-th run's KEYS (create.lua's header)
-- ARGV[14 * (i - 1) + 1 .. 14 * i]  the i-th run's ARGV
-- Each write runs under pcall: one that fails is that run's error reply, the others
-- still apply, as separate calls would.
-- Returns an array: per run, 1 (created), 0 (the id existed) or its error.
local replies = {}
for i = 0, #KEYS / 5 - 1 do
  local k = {unpack(KEYS, 5 * i + 1, 5 * i + 5)}
  local a = {unpack(ARGV, 14 * i + 1, 14 * i + 14)}
  local ok, reply = pcall(create, k, a)
  if ok then
    replies[#replies + 1] = reply
  elseif type(reply) == 'table' and reply.err then
    replies[#replies + 1] = reply
  else
    replies[#replies + 1] = {err = 'ERR ' .. tostring(reply)}
  end
end
return replies
