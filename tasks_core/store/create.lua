-- create.lua: write a new run record, its first state and event, and optionally its broker
-- message, in one atomic step. A run id that exists already is left untouched.
-- (Loaded after run_event.lua, which builds the event, and due_add.lua.)
-- KEYS[1]  run hash                p:run:<id> (with its history: fields h1, hn)
-- KEYS[2]  event stream            p:events
-- KEYS[3]  runs index (by time)    p:<kind>-runs
-- KEYS[4]  state index             p:<kind>-runs:state:<state>
-- KEYS[5]  broker queue list       (used only when ARGV[7] is not '')
-- ARGV[1]  run id
-- ARGV[2]  score (epoch seconds of creation)
-- ARGV[3]  record fields (flat JSON object of strings, including state; not state_type or
--          created, which readers derive: tasks_core/records.py)
-- ARGV[4]  the first history entry (tasks_core/state_history.py), field h1
-- ARGV[5]  (unused)
-- ARGV[6]  event stream max length (approximate trim)
-- ARGV[7]  broker message to LPUSH onto KEYS[5] ('' = none)
-- ARGV[8]  the time of creation, integer microseconds since the Unix epoch (the event's;
--          its id is derived from the run's id and its number, 1: run_event.lua)
-- ARGV[14] validated state (JSON object, or 'null': derivable), for the event payload
-- ARGV[9]  the parent's children index (p:run:<parent>:children), '' = no parent
-- ARGV[10] the due set (p:due) when the run waits for its scheduled time, '' = none
-- ARGV[11] the due time (epoch seconds), with ARGV[10]; it scores the state index then
-- ARGV[12] another index to add the run to, scored by the due time ('' = none)
-- ARGV[13] pub/sub channel told when the run is the earliest due one (with ARGV[10])
-- The first event `follows` the event that triggered the run (its record's
-- triggered_by.event_id, set when an automation created it), else nothing.
-- Returns 1 when created, 0 when the id existed already. The same creation sent again after
-- it applied (its reply lost with the connection: redis-py, or the caller's retry of its
-- publish, sends it again) is known by the record's first history entry, which is the
-- creation's own (ARGV[4]: its state and time in microseconds), and is answered 1 again,
-- changing nothing: its sender then does what follows a creation (publishes the message
-- through a broker that is not this Redis, indexes its `expires`) once.
-- The write is the function `create(KEYS, ARGV)` (creates.lua writes several in one call);
-- create_one.lua writes one.
local function create(KEYS, ARGV)
  if redis.call('EXISTS', KEYS[1]) == 1 then
    if redis.call('HGET', KEYS[1], 'h1') == ARGV[4] then  -- this creation, sent again
      return 1
    end
    return 0
  end
  local fields = cjson.decode(ARGV[3])
  local flat = {'h1', ARGV[4], 'hn', '1'}
  for k, v in pairs(fields) do
    flat[#flat + 1] = k
    flat[#flat + 1] = v
  end
  redis.call('HSET', KEYS[1], unpack(flat))
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
  if ARGV[10] ~= '' then
    redis.call('ZADD', KEYS[4], ARGV[11], ARGV[1])
  else
    redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
  end
  local follows = false
  if fields['triggered_by'] then
    local by = cjson.decode(fields['triggered_by'])
    if type(by['event_id']) == 'string' then
      follows = by['event_id']
    end
  end
  local event = run_event(1, ARGV[8], fields['kind'], ARGV[1], fields['name'],
    fields['related'], false, fields['state'], ARGV[14], follows, false)
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*', 'run', event)
  if ARGV[7] ~= '' then
    redis.call('LPUSH', KEYS[5], ARGV[7])
  end
  if ARGV[9] ~= '' then
    redis.call('ZADD', ARGV[9], ARGV[2], ARGV[1])
  end
  if ARGV[10] ~= '' then
    due_add(ARGV[10], ARGV[11], ARGV[1], ARGV[13])
    if ARGV[12] ~= '' then
      redis.call('ZADD', ARGV[12], ARGV[11], ARGV[1])
    end
  end
  return 1
end
