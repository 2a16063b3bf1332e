-- concurrency_acquire.lua: take `occupy` slots of one or more concurrency limits, all or
-- none (tasks_core.concurrency; Prefect's global concurrency limits and rate limits).
-- KEYS[3i-2]  limit i's record            p:concurrency-limit:<name>          HASH
-- KEYS[3i-1]  limit i's leases            p:concurrency-limit:<name>:leases   ZSET id -> expiry ms
-- KEYS[3i]    limit i's lease slots       p:concurrency-limit:<name>:holders  HASH id -> "slots|ms"
-- ARGV[1]     lease id (a holder's random id; the same on every limit of one acquisition)
-- ARGV[2]     slots to take from each limit (0 with mode "peek")
-- ARGV[3]     lease length, milliseconds (renewed by concurrency_renew.lua)
-- ARGV[4]     mode: "concurrency" (held under a lease until released or expired),
--             "rate_limit" (taken, never released: they decay), "peek" (take nothing)
-- Time is Redis's own (TIME), so holders on machines with skewed clocks agree.
-- Before deciding, each limit is settled: leases past their expiry give their slots back
-- (a killed holder frees its slots), and a limit with slot_decay_per_second loses that many
-- slots per second since it was last settled (the token bucket refills).
-- Returns {status, detail, missing indexes...}: status "ok"; "wait" (detail: ms until a
-- retry may succeed, 0 unknown); "too-many" (detail: the index of a limit whose `limit` is
-- below `occupy`); "no-decay" (rate_limit on limit `detail` that has no slot decay).
-- Limits that do not exist are skipped and returned as missing (1-based indexes).
-- A lease that holds a limit already (the same acquire sent again) is "ok" on it without
-- counting its slots again.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function give_back(entry, now, decay)
  local sep = string.find(entry, '|', 1, true)
  local slots = tonumber(string.sub(entry, 1, sep - 1))
  local since = tonumber(string.sub(entry, sep + 1))
  if decay > 0 then
    slots = slots - (now - since) / 1000 * decay
  end
  if slots < 0 then return 0 end
  return slots
end

local function settle(hash, leases, holders, now)
  local limit = tonumber(redis.call('HGET', hash, 'limit'))
  local decay = tonumber(redis.call('HGET', hash, 'slot_decay_per_second') or '0') or 0
  local active = tonumber(redis.call('HGET', hash, 'active_slots') or '0') or 0
  local at = tonumber(redis.call('HGET', hash, 'settled_ms') or now) or now
  if decay > 0 and now > at then
    active = active - (now - at) / 1000 * decay
  end
  local gone = redis.call('ZRANGEBYSCORE', leases, '-inf', now)
  for _, id in ipairs(gone) do
    local entry = redis.call('HGET', holders, id)
    if entry then
      active = active - give_back(entry, now, decay)
      redis.call('HDEL', holders, id)
    end
    redis.call('ZREM', leases, id)
  end
  if active < 1e-9 then active = 0 end
  redis.call('HSET', hash, 'active_slots', tostring(active), 'settled_ms', tostring(now))
  return active, limit, decay
end

local lease, occupy, ttl, mode = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local now = now_ms()
local missing = {}
local present = {}
local held = {}  -- limits this lease holds already: an acquire sent again (redis-py sends a
                 -- command again when the connection drops before its reply): not counted twice
for i = 1, #KEYS / 3 do
  local hash, leases, holders = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  if redis.call('EXISTS', hash) == 0 then
    table.insert(missing, i)
  else
    local active, limit, decay = settle(hash, leases, holders, now)
    held[i] = mode == 'concurrency' and redis.call('HEXISTS', holders, lease) == 1
    if mode == 'rate_limit' and decay <= 0 then
      return {'no-decay', i}
    end
    if occupy > limit then
      return {'too-many', i}
    end
    if mode ~= 'peek' and not held[i] and active + occupy > limit + 1e-9 then
      redis.call('HINCRBY', hash, 'denied_slots', occupy)
      local retry = 0
      if decay > 0 then
        retry = math.ceil((active + occupy - limit) / decay * 1000)
      end
      return {'wait', retry}
    end
    table.insert(present, i)
  end
end
if mode ~= 'peek' then
  for _, i in ipairs(present) do
    local hash, leases, holders = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
    if held[i] then
      redis.call('ZADD', leases, now + ttl, lease)  -- held already: only its expiry moves
    else
      redis.call('HINCRBYFLOAT', hash, 'active_slots', occupy)
    end
    if mode == 'concurrency' and not held[i] then
      redis.call('ZADD', leases, now + ttl, lease)
      redis.call('HSET', holders, lease, occupy .. '|' .. now)
    end
  end
end
local reply = {'ok', 0}
for _, i in ipairs(missing) do table.insert(reply, i) end
return reply
