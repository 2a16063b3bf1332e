-- rate_take.lua: take a task's next start from its rate-limit token bucket, shared by every
-- worker (capacity 1, as Celery's per-worker bucket). A start over the limit reserves the
-- next free slot instead: the bucket goes below zero and the caller waits until then.
-- The clock is Redis's own (TIME), so workers on machines with skewed clocks agree.
-- KEYS[1]  the bucket hash   p:rate:<task name>  fields: tokens, at (epoch seconds of the
--          last take), rate (an override from `celery control rate_limit`, tokens/second;
--          absent = the task's own), taken (the last take's call token), slot (epoch
--          seconds of the start it reserved)
-- ARGV[1]  the task's own rate (tokens per second, > 0)
-- ARGV[2]  this call's token ('' = none): the same take sent again after it applied (its
--          reply lost with the connection; redis-py sends it again) is known by it and
--          answered with the start it reserved, taking nothing more
-- Returns the seconds to wait before the reserved start (text): '0' = start now; '-1' = no
-- limit (an override of 0 lifts it, as Celery's rate_limit 0 does).
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'rate', 'tokens', 'at', 'taken', 'slot')
local rate = tonumber(ARGV[1])
if state[1] and state[1] ~= '' then
  rate = tonumber(state[1])
end
if rate <= 0 then
  return '-1'
end
if ARGV[2] ~= '' and state[4] == ARGV[2] then  -- this take, sent again
  local left = tonumber(state[5] or '0') - now
  if left > 0 then
    return tostring(left)
  end
  return '0'
end
local tokens = tonumber(state[2] or '1')
local at = tonumber(state[3] or tostring(now))
tokens = math.min(1, tokens + math.max(0, now - at) * rate) - 1
local wait = 0
if tokens < 0 then
  wait = -tokens / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now), 'taken', ARGV[2],
  'slot', tostring(now + wait))
if wait == 0 then
  return '0'
end
return tostring(wait)
