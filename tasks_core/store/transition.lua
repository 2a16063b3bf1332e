-- transition.lua: move one run to a new state, atomically, if the state machine allows it.
-- (Loaded after run_event.lua, which builds the event, due_add.lua, metrics_duration.lua and
-- canvas_follow.lua.)
-- In the same step: add the state to the history (a field of the record), append the
-- transition's event to the event stream, move the run between state indexes, store the
-- result (in the record when ARGV[25] says so), wake waiters when the
-- state is terminal (a PUBLISH on the run's done channel), and optionally push a broker
-- message. A run with a `links` field (a chain step, a chord member, link=/link_error=)
-- that became terminal releases or ends the runs waiting on it in the same step
-- (canvas_follow.lua).
-- KEYS[1]  run hash                p:run:<id> (its history is in it: fields h1.., hn,
--                                  tasks_core/state_history.py)
-- KEYS[2]  event stream            p:events
-- KEYS[3]  done channel            p:run:<id>:done (PUBLISH: wakes waiters, stores nothing)
-- KEYS[4]  result key              p:result:<id> (a result not kept in the record: ARGV[25])
-- KEYS[5]  broker queue list       (used only when ARGV[12] is not '')
-- KEYS[6]  log list                p:run:<id>:logs      (TTL ARGV[16] once terminal)
-- KEYS[7]  children index          p:run:<id>:children  (TTL ARGV[16] once terminal)
-- KEYS[8]  resumed pauses          p:pause:<id>:resumed (TTL ARGV[16] once terminal)
-- ARGV[1]  target state name
-- ARGV[2]  target state type (not stored: readers derive it from the name)
-- ARGV[3]  allowed source states, comma-wrapped: ",Pending,Running,"
-- ARGV[4]  expected current attempt ('' = do not check)
-- ARGV[5]  score for the state index (epoch seconds)
-- ARGV[6]  state index key prefix (p:task-runs:state:)
-- ARGV[7]  history entry (tasks_core/state_history.py), stored as field h<hn + 1>
-- ARGV[8]  fields to set (flat JSON object of strings; '' deletes the field)
-- ARGV[9]  the time, integer microseconds since the Unix epoch (the event's; its id is
--          derived from the run's id and the event's number: run_event.lua)
-- ARGV[10] the time (ISO 8601): canvas moves' end_time
-- ARGV[11] event stream max length (approximate trim)
-- ARGV[12] broker message to LPUSH onto KEYS[5] ('' = none)
-- ARGV[13] result JSON ('' = none)
-- ARGV[14] result TTL seconds (a result in KEYS[4])
-- ARGV[15] '1' when the target state is terminal
-- ARGV[16] TTL seconds of the record, logs, children and resumed pauses once terminal
--          (tasks_core.retention.run_ttl: by the target state)
-- ARGV[17] validated state (JSON object, or 'null': derivable), for the event payload
-- ARGV[18] fields to return after the change, comma-separated ('' = none; claims need some)
-- ARGV[19] the due set (p:due) when the run waits there for its next attempt ('' = none);
--          ARGV[5] is then the due time
-- ARGV[20] pub/sub channel told when the run is the earliest due one (with ARGV[19])
-- ARGV[21] the duration histogram p:metrics:durations ('' = do not count); with ARGV[15]
--          '1', a run that has a start_time adds end - start to it (metrics_duration.lua:
--          two HINCRBY, the run's start_time and queue read with its state)
-- ARGV[22] the end time (epoch seconds), with ARGV[21]
-- ARGV[23] the histogram's upper bounds in seconds, ascending, comma-separated
-- ARGV[24] the current time (UTC ISO 8601) when the run's `expires` (Celery's, UTC ISO 8601,
--          compared as text: same format) must be later ('' = do not check; claims check)
-- ARGV[25] '1': keep the result (ARGV[13]) in the record, field `result` (small, and its
--          TTL is the record's); '0': SET it on KEYS[4] with TTL ARGV[14]; '-': store it
--          nowhere, only hand it to the runs waiting on this one (Celery's ignore_result)
-- Returns {1} or {1, name, value, ...} when applied, {0, state, attempt, owner} when refused,
-- {0, state, attempt, owner, 'expired'} when refused because the run expired, {-1} when
-- the run does not exist. The same change sent again after it applied (redis-py sends a
-- command again when its reply was lost with the connection) is known by the run's last
-- history entry, which is the change's own (ARGV[7]: its state and time in microseconds;
-- a claim's token too), and is answered as applied, changing nothing: its sender then does
-- what follows an applied change (hooks, a Cancelled end) once.
-- The change is the function `transition(KEYS, ARGV)` (transitions.lua applies several in
-- one call); this script applies one.
-- the reply of an applied change: {1, name, value, ...} for the `asked` first of `names`
-- (ARGV[18]), each as the change set it, else as read before it (cur[13 + i])
local function applied_reply(names, asked, ARGV, changes, cur)
  local reply = {1}
  local fixed = {state = ARGV[1], state_type = ARGV[2]}
  for i = 1, asked do
    local name = names[i]
    local value = fixed[name] or changes[name]
    if value == nil then
      value = cur[13 + i] or ''
    end
    reply[#reply + 1] = name
    reply[#reply + 1] = value
  end
  return reply
end

local function transition(KEYS, ARGV)
  local names = {}  -- fields asked back (ARGV[18]): read with the state, in one HMGET
  for name in string.gmatch(ARGV[18], '[^,]+') do
    names[#names + 1] = name
  end
  local changes = cjson.decode(ARGV[8])
  local empties = {}  -- fields to delete: read too, so that only those present are deleted
  for k, v in pairs(changes) do
    if v == '' then
      empties[#empties + 1] = k
    end
  end
  local asked = #names
  for i, name in ipairs(empties) do
    names[asked + i] = name
  end
  local cur = redis.call('HMGET', KEYS[1], 'state', 'attempt', 'owner', 'hn', 'id', 'kind',
    'name', 'related', 'start_time', 'queue', 'expires', 'links', 'h1', unpack(names))
  local state = cur[1]
  if not state then
    return {-1}
  end
  local attempt = cur[2] or '0'
  if not string.find(ARGV[3], ',' .. state .. ',', 1, true)
      or (ARGV[4] ~= '' and ARGV[4] ~= attempt) then
    if state == ARGV[1] and cur[4] then  -- this change, sent again? (a claim: its token too)
      local last = redis.call('HMGET', KEYS[1], 'h' .. cur[4], 'claim')
      if last[1] == ARGV[7] and (not changes['claim'] or last[2] == changes['claim']) then
        return applied_reply(names, asked, ARGV, changes, cur)
      end
    end
    return {0, state, attempt, cur[3] or ''}
  end
  if ARGV[24] ~= '' and cur[11] and cur[11] <= ARGV[24] then
    return {0, state, attempt, cur[3] or '', 'expired'}
  end

  local flat = {'state', ARGV[1]}
  local entries, follows = add_history_entry(KEYS[1], flat, cur[4], ARGV[7])
  local cleared = {}
  local started, queue = cur[9], cur[10]
  for k, v in pairs(changes) do
    if v ~= '' then
      flat[#flat + 1] = k
      flat[#flat + 1] = v
    end
    if k == 'start_time' then started = v elseif k == 'queue' then queue = v end
  end
  for i, name in ipairs(empties) do
    if cur[13 + asked + i] then  -- an empty value is no field: it reads back as its default
      cleared[#cleared + 1] = name
    end
  end
  if ARGV[13] ~= '' then
    if ARGV[25] == '1' then
      flat[#flat + 1] = 'result'
      flat[#flat + 1] = ARGV[13]
    elseif ARGV[25] == '0' then
      redis.call('SET', KEYS[4], ARGV[13], 'EX', ARGV[14])
    end
  end
  redis.call('HSET', KEYS[1], unpack(flat))
  if #cleared > 0 then
    redis.call('HDEL', KEYS[1], unpack(cleared))
  end
  redis.call('ZREM', ARGV[6] .. state, cur[5])
  redis.call('ZADD', ARGV[6] .. ARGV[1], ARGV[5], cur[5])

  local event = run_event(entries, ARGV[9], cur[6] or 'task', cur[5], cur[7], cur[8], state,
    ARGV[1], ARGV[17], follows, created_us_of(cur[13]))
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[11], '*', 'run', event)

  if ARGV[12] ~= '' then
    redis.call('LPUSH', KEYS[5], ARGV[12])
  end
  if ARGV[19] ~= '' then
    due_add(ARGV[19], ARGV[5], cur[5], ARGV[20])
  end
  if ARGV[15] == '1' then
    redis.call('PUBLISH', KEYS[3], ARGV[1])
    redis.call('EXPIRE', KEYS[1], ARGV[16])
    if redis.call('EXISTS', KEYS[6], KEYS[7], KEYS[8]) > 0 then  -- most runs have none
      redis.call('EXPIRE', KEYS[6], ARGV[16])
      redis.call('EXPIRE', KEYS[7], ARGV[16])
      redis.call('EXPIRE', KEYS[8], ARGV[16])
    end
    if ARGV[21] ~= '' then
      count_duration(ARGV[21], ARGV[23], cur[6] or 'task', queue or '', ARGV[1], started,
        tonumber(ARGV[22]))
    end
    if cur[12] then
      canvas_follow(KEYS[1], cur[5], ARGV[1], cur[12], ARGV[13], ARGV[10], ARGV[5])
    end
  end
  return applied_reply(names, asked, ARGV, changes, cur)
end
