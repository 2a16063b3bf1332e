-- due_add.lua: the one way a run enters beat's due set, prepended (with run_event.lua) to
-- create.lua and transition.lua when they are loaded (store/runs.py).
-- KEYS[] none: no script of its own, a function of its arguments:
--   due_key  the due set (p:due); score: the due time (epoch seconds); run_id: the member
--   channel  pub/sub channel told when the run is now the earliest due one (p:due:wake),
--            so that beat wakes before its next planned look
-- Returns nothing.
local function due_add(due_key, score, run_id, channel)
  redis.call('ZADD', due_key, score, run_id)
  if redis.call('ZRANGE', due_key, 0, 0)[1] == run_id then
    redis.call('PUBLISH', channel, score)
  end
end
