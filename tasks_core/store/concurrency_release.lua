-- concurrency_release.lua: give back the slots a lease holds on one or more concurrency
-- limits (the end of a `concurrency(...)` block; tasks_core.concurrency).
-- KEYS[3i-2]  limit i's record            p:concurrency-limit:<name>          HASH
-- KEYS[3i-1]  limit i's leases            p:concurrency-limit:<name>:leases   ZSET id -> expiry ms
-- KEYS[3i]    limit i's lease slots       p:concurrency-limit:<name>:holders  HASH id -> "slots|ms"
-- ARGV[1]     lease id
-- A limit with slot_decay_per_second gets back only the slots that have not decayed since
-- the lease was taken. A lease that expired (and was settled by another call), a deleted
-- or reset limit: nothing to give back.
-- Returns how many of the limits had the lease.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = ARGV[1]
local released = 0
for i = 1, #KEYS / 3 do
  local hash, leases, holders = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local entry = redis.call('HGET', holders, lease)
  if entry and redis.call('EXISTS', hash) == 1 then
    local sep = string.find(entry, '|', 1, true)
    local slots = tonumber(string.sub(entry, 1, sep - 1))
    local since = tonumber(string.sub(entry, sep + 1))
    local decay = tonumber(redis.call('HGET', hash, 'slot_decay_per_second') or '0') or 0
    local active = tonumber(redis.call('HGET', hash, 'active_slots') or '0') or 0
    local at = tonumber(redis.call('HGET', hash, 'settled_ms') or now) or now
    if decay > 0 then
      if now > at then active = active - (now - at) / 1000 * decay end
      slots = slots - (now - since) / 1000 * decay
      if slots < 0 then slots = 0 end
    end
    active = active - slots
    if active < 1e-9 then active = 0 end
    redis.call('HSET', hash, 'active_slots', tostring(active), 'settled_ms', tostring(now))
    released = released + 1
  end
  redis.call('HDEL', holders, lease)
  redis.call('ZREM', leases, lease)
end
return released
