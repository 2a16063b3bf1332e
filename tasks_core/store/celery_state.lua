-- celery_state.lua: store Celery's custom state of a running run (Task.update_state):
-- the fields celery_state and celery_meta of its record, only while the run is Running or
-- Retrying (a run that ended keeps its end as it was).
-- KEYS[1]   the run record     p:run:<id>
-- ARGV[1]   the custom state   (e.g. PROGRESS)
-- ARGV[2]   its meta, JSON     (an object)
-- Returns 1 when stored, 0 when the run is not running, -1 when there is no such run.
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  return -1
end
if state ~= 'Running' and state ~= 'Retrying' then
  return 0
end
redis.call('HSET', KEYS[1], 'celery_state', ARGV[1], 'celery_meta', ARGV[2])
return 1
