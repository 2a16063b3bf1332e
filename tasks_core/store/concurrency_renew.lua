-- concurrency_renew.lua: push back the expiry of a lease on one or more concurrency limits
-- (the holder is alive; tasks_core.concurrency's lease keeper calls it every third of the
-- lease).
-- KEYS[i]     limit i's leases            p:concurrency-limit:<name>:leases   ZSET id -> expiry ms
-- ARGV[1]     lease id
-- ARGV[2]     lease length, milliseconds, from now (Redis's TIME)
-- Returns how many limits still had the lease (fewer than #KEYS: it expired, or the limit
-- was reset or deleted, and those slots are no longer held).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local renewed = 0
for i = 1, #KEYS do
  if redis.call('ZSCORE', KEYS[i], ARGV[1]) then
    redis.call('ZADD', KEYS[i], now + tonumber(ARGV[2]), ARGV[1])
    renewed = renewed + 1
  end
end
return renewed
