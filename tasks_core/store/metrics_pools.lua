-- metrics_pools.lua: the work pools of the newest runs of one state index, counted in Redis
-- (what `/metrics` splits `tasks_core_runs` by), so a scrape reads one short reply per state
-- instead of a field per run.
-- KEYS[1]  a state index        p:<kind>-runs:state:<S>
-- ARGV[1]  how many of its newest runs to read (the sample)
-- ARGV[2]  the run hash prefix  p:run:  (the record of run <id> is ARGV[2] .. <id>)
-- Returns {expired, pool, n, pool, n, ...}: how many of the sample have no record any more
-- (expired, still indexed), then each pool (a run's queue up to its first ':'; '' when it
-- has none) with how many of the sample are on it.
local ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
local counts, order, expired = {}, {}, 0
for _, id in ipairs(ids) do
  local found = redis.call('HMGET', ARGV[2] .. id, 'state', 'queue')
  if not found[1] then
    expired = expired + 1
  else
    local pool = found[2] and string.match(found[2], '^[^:]*') or ''
    if not counts[pool] then
      counts[pool] = 0
      order[#order + 1] = pool
    end
    counts[pool] = counts[pool] + 1
  end
end
local reply = {expired}
for _, pool in ipairs(order) do
  reply[#reply + 1] = pool
  reply[#reply + 1] = counts[pool]
end
return reply
