-- concurrency_create.lua: create a concurrency limit unless its name is taken.
-- KEYS[1]     the limit's record          p:concurrency-limit:<name>          HASH
-- KEYS[2]     every limit's name          p:concurrency-limits                SET
-- ARGV[1]     name; ARGV[2] limit (slots); ARGV[3] slot_decay_per_second; ARGV[4] created
--             (ISO 8601)
-- Returns 1 when created, 0 when the name exists.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'name', ARGV[1], 'limit', ARGV[2], 'slot_decay_per_second',
           ARGV[3], 'active_slots', '0', 'denied_slots', '0', 'created', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
