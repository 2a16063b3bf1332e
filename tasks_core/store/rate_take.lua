-- rate_take.lua: take a task's next start from its rate-limit token bucket, shared by every
-- worker (capacity 1, as Celery's per-worker bucket). A start over the limit reserves the
-- next free slot instead: the bucket goes below zero and the caller waits until then.
-- The clock is Redis's own (TIME), so workers on machines with skewed clocks agree.
-- KEYS[1]  the bucket hash   p:rate:<task name>  fields: tokens, at (epoch seconds of the
--          last take), rate (an override from `celery control rate_limit`, tokens/second;
--          absent = the task's own)
-- ARGV[1]  the task's own rate (tokens per second, > 0)
-- Returns the seconds to wait before the reserved start (text): '0' = start now; '-1' = no
-- limit (an override of 0 lifts it, as Celery's rate_limit 0 does).
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local override = redis.call('HGET', KEYS[1], 'rate')
if override and override ~= '' then
  rate = tonumber(override)
end
if rate <= 0 then
  return '-1'
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1] or '1')
local at = tonumber(state[2] or tostring(now))
tokens = math.min(1, tokens + math.max(0, now - at) * rate) - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
if tokens >= 0 then
  return '0'
end
return tostring(-tokens / rate)
