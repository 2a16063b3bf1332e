-- history_fields.lua: helpers for a run's history kept as fields of its record (h1..hn, hn;
-- tasks_core/state_history.py), prepended to create.lua, transition.lua and
-- canvas_follow.lua when they are loaded (store/runs.py).
-- KEYS[] none: no script of its own. created_us_of is a pure function; add_history_entry
-- (through adopt_history) reads and writes the run's keys it is given.
-- Returns (each function): see its comment.

-- the creation time (integer µs, text) in a record's first history entry (field h1, as
-- tasks_core/state_history.py writes it), or false (no h1, or one from before: an object)
local function created_us_of(h1)
  return (h1 and string.match(h1, '^%[".-",(%d+)')) or false
end

-- a record from before its history moved into it (no field hn): moves its history list
-- p:run:<id>:history into fields h1..hk (the entries as they are: JSON objects, which
-- tasks_core/state_history.py reads too) by appending them to `flat` (HSET pairs), deletes
-- the list and the record's last_event (returned: the next event follows it); returns k
-- and that id (or false)
local function adopt_history(run_key, flat)
  local legacy = run_key .. ':history'
  local old = redis.call('LRANGE', legacy, 0, -1)
  for i, entry in ipairs(old) do
    flat[#flat + 1] = 'h' .. i
    flat[#flat + 1] = entry
  end
  local last = redis.call('HGET', run_key, 'last_event')
  if #old > 0 then
    redis.call('DEL', legacy)
  end
  if last then
    redis.call('HDEL', run_key, 'last_event')
  end
  return #old, last or false
end

-- the run's next history entry `entry` (tasks_core/state_history.py), appended to `flat`
-- (HSET pairs for run_key) as field h<n> with hn = n, n following `hn` (the record's field;
-- false: a record from before, whose list is adopted first); returns n, which is also the
-- number of the event the same step emits, and the id that event follows (false: the
-- run's event n - 1)
local function add_history_entry(run_key, flat, hn, entry)
  local n, follows = tonumber(hn), false
  if not n then
    n, follows = adopt_history(run_key, flat)
  end
  n = n + 1
  flat[#flat + 1] = 'h' .. n
  flat[#flat + 1] = entry
  flat[#flat + 1] = 'hn'
  flat[#flat + 1] = n
  return n, follows
end
