-- acquire_slot.lua: the gate a work pool's flow run passes before a worker runs it. A pool
-- with no record is open with no limit; a paused pool, a paused work queue of it, or a pool
-- whose running set is full parks the run (it stays Pending) until a resume or a freed
-- slot sends it again.
-- KEYS[1]  the pool record (JSON)  p:work-pool:<name>
-- KEYS[2]  its running set         p:work-pool:<name>:running
-- KEYS[3]  its parked runs         p:work-pool:<name>:parked
-- ARGV[1]  the run id
-- ARGV[2]  now (epoch seconds), the parked score of a run parked first now
-- ARGV[3]  the run's work queue name ('high' of 'pool:high'); '' for the pool's own queue
-- Returns 1 when the run may start (it holds a slot: in the running set), 0 when parked.
local text = redis.call('GET', KEYS[1])
if not text then
  return 1
end
local pool = cjson.decode(text)
local held = pool['paused']
if not held and ARGV[3] ~= '' and type(pool['paused_queues']) == 'table' then
  for _, queue in ipairs(pool['paused_queues']) do
    if queue == ARGV[3] then
      held = true
      break
    end
  end
end
local limit = tonumber(pool['concurrency_limit']) or 0
if held or (limit > 0 and redis.call('SCARD', KEYS[2]) >= limit
    and redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0) then
  redis.call('ZADD', KEYS[3], 'NX', ARGV[2], ARGV[1])
  return 0
end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
