-- automation_save.lua: create or update one automation, its name index, its owner index,
-- and announce the change, atomically.
-- KEYS[1]   automation names            p:automations              HASH name -> id
-- KEYS[2]   the automation              p:automation:<id>          STRING (JSON)
-- KEYS[3]   (optional) owner index      p:automations:owned:<dep>  SET of ids
-- ARGV[1]   mode: "create" (refused when the name or the id exists) | "update" (refused
--           when the id does not exist, or the new name is another automation's)
-- ARGV[2]   id
-- ARGV[3]   name
-- ARGV[4]   the automation's JSON (its "name" field is ARGV[3])
-- ARGV[5]   the change channel          p:automations:changes
-- ARGV[6]   the change message (JSON)
-- Returns {"ok"}, {"duplicate", <id holding the name>} or {"missing"}.
local holder = redis.call('HGET', KEYS[1], ARGV[3])
if holder and holder ~= ARGV[2] then
  return {'duplicate', holder}
end
local old = redis.call('GET', KEYS[2])
if ARGV[1] == 'create' then
  if old then
    return {'duplicate', ARGV[2]}
  end
else
  if not old then
    return {'missing'}
  end
  local old_name = cjson.decode(old)['name']
  if old_name ~= ARGV[3] and redis.call('HGET', KEYS[1], old_name) == ARGV[2] then
    redis.call('HDEL', KEYS[1], old_name)
  end
end
redis.call('SET', KEYS[2], ARGV[4])
redis.call('HSET', KEYS[1], ARGV[3], ARGV[2])
if KEYS[3] then
  redis.call('SADD', KEYS[3], ARGV[2])
end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return {'ok'}
