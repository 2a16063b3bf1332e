-- canvas_follow.lua: what a run's end does to the runs waiting on it (chains, chords, link=
-- and link_error=, tasks_core/canvas). Prepended to transition.lua when it is loaded
-- (store/runs.py); transition.lua calls canvas_follow() only when the run that just became
-- terminal has a `links` field, so a run without links pays one HMGET field.
-- KEYS[] none: every key comes in the plan, built by store/keys.py when the canvas was sent.
-- A plan (the `links` field, JSON) reads:
--   {"k": {"events": p:events, "maxlen": n, "tidx": p:task-runs:state:, "due": p:due,
--          "wake": p:due:wake, "ttl": run TTL seconds (run_ttl_seconds),
--          "fttl": TTL seconds of a run ended Failed (failed_run_ttl_seconds; absent in
--          plans written before it: "ttl")},
--    "ok":  [target, ...]   released when the run Completed (Cached): its result is spliced
--                           into the target's parameters when target.arg; ended Failed (or
--                           Cancelled) with the run's error when it did not complete
--    "err": [target, ...]   errbacks: released with the run's id as first argument when it
--                           failed (and was the one that failed), else ended Cancelled
--    "chord": {"key": p:chord:<id>, "i": index}   the run is header member i of a chord}
--   target = {"id", "run": p:run:<id> (its history is in it: fields h1.., hn),
--             "done": p:run:<id>:done (a channel),
--             "arg": true|false, "push": [queue list, message]
--             | null (no direct broker: it goes to the due set, beat sends it now)}
-- A chord hash p:chord:<id> holds "left" (members not yet Completed), "size", "body" (JSON
-- list of targets) and "r<i>" (member i's result JSON); "failed" is claimed with HSETNX by
-- the first member that did not complete. "left" reaching 0 releases the body exactly once:
-- every member's terminal transition runs this script atomically, once. Each member's end
-- sets the hash's TTL (the run TTL; it has none before the first member ends).
-- A target is moved only while it is still Paused (held): one a user cancelled stays so.
-- Returns nothing: canvas_follow() writes the moves (state, history, state index, event,
-- done channel and TTLs for an end, the broker message or due entry for a release).
local CV_MARK = '"@@tasks-core:previous-result@@"'

-- the time of the terminal transition being followed (epoch seconds), set by
-- canvas_follow(): index scores and due times of the moves (no TIME: scripts stay pure)
local cv_clock = 0

local function cv_now()
  return cv_clock
end

-- move held target t to `to` (state name, type); returns its fields or nil when not held
local function cv_move(t, k, to, to_type, message, extra, at, score)
  local cur = redis.call('HMGET', t.run, 'state', 'links', 'name', 'related', 'hn',
    'parameters', 'kind', 'h1')
  if cur[1] ~= 'Paused' then
    return nil
  end
  local flat = {'state', to, 'state_message', message}
  local at_us = string.format('%.0f', tonumber(score) * 1000000)
  -- the history entry (tasks_core/state_history.py): [name, at_us, message, type]
  local entry = '["' .. to .. '",' .. at_us .. ',' .. cjson.encode(message) .. ',"' .. to_type
    .. '"]'
  local entries, follows = add_history_entry(t.run, flat, cur[5], entry)
  for key, v in pairs(extra) do
    flat[#flat + 1] = key
    flat[#flat + 1] = v
  end
  redis.call('HSET', t.run, unpack(flat))
  redis.call('ZREM', k.tidx .. 'Paused', t.id)
  redis.call('ZADD', k.tidx .. to, score, t.id)
  local validated = cjson.encode({name = to, type = to_type, message = message})
  local event = run_event(entries, at_us, cur[7] or 'task', t.id, cur[3], cur[4], 'Paused', to,
    validated, follows, created_us_of(cur[8]))
  redis.call('XADD', k.events, 'MAXLEN', '~', k.maxlen, '*', 'run', event)
  return cur
end

local function cv_release(t, k, arg_json, at, why)
  local params = redis.call('HGET', t.run, 'parameters') or '{}'
  if t.arg and arg_json then
    local s, e = string.find(params, CV_MARK, 1, true)
    if s then
      params = string.sub(params, 1, s - 1) .. arg_json .. string.sub(params, e + 1)
    end
  end
  local now = cv_now()
  if t.push ~= cjson.null and t.push then
    if cv_move(t, k, 'Pending', 'PENDING', why, {parameters = params}, at, now) then
      redis.call('LPUSH', t.push[1], t.push[2])
    end
  elseif cv_move(t, k, 'Scheduled', 'SCHEDULED', why, {parameters = params}, at, now) then
    due_add(k.due, now, t.id, k.wake)
  end
end

local cv_follow

local function cv_end(t, k, to, to_type, message, error_json, at, fire)
  local extra = {end_time = at}
  if error_json then
    extra.error = error_json
  end
  local cur = cv_move(t, k, to, to_type, message, extra, at, cv_now())
  if not cur then
    return
  end
  local ttl = k.ttl
  if (to_type == 'FAILED' or to_type == 'CRASHED') and k.fttl then
    ttl = k.fttl
  end
  redis.call('PUBLISH', t.done, to)
  redis.call('EXPIRE', t.run, ttl)
  if cur[2] then
    cv_follow(cur[2], t.id, to, nil, error_json, at, fire)
  end
end

local function cv_chord_error(from, error_json)
  local kind, msg = 'Exception', ''
  if error_json then
    local e = cjson.decode(error_json)
    kind, msg = e.type or kind, e.message or ''
  end
  return cjson.encode({type = 'celery.exceptions.ChordError',
    message = 'Dependency ' .. from .. ' raised ' .. kind .. '(' .. msg .. ')'})
end

local function cv_chord(c, k, from, ok, result, error_json, at)
  local body = redis.call('HGET', c.key, 'body')
  if not body then
    return  -- the join expired (members ending more than the run TTL apart): nothing to do
  end
  redis.call('EXPIRE', c.key, k.ttl)
  if ok then
    redis.call('HSET', c.key, 'r' .. c.i, result)
    local left = redis.call('HINCRBY', c.key, 'left', -1)
    if left == 0 and redis.call('HEXISTS', c.key, 'failed') == 0 then
      local size = tonumber(redis.call('HGET', c.key, 'size'))
      local names = {}
      for i = 0, size - 1 do
        names[#names + 1] = 'r' .. i
      end
      local list = '[' .. table.concat(redis.call('HMGET', c.key, unpack(names)), ',') .. ']'
      for _, t in ipairs(cjson.decode(body)) do
        cv_release(t, k, list, at, 'chord header complete')
      end
    end
  elseif redis.call('HSETNX', c.key, 'failed', from) == 1 then
    local err = cv_chord_error(from, error_json)
    for _, t in ipairs(cjson.decode(body)) do
      cv_end(t, k, 'Failed', 'FAILED', 'chord member ' .. from .. ' did not complete', err, at,
        true)
    end
  end
end

-- the run `from` ended in state `state`; `result`: its result JSON when it completed;
-- `fire`: it is the run that failed (its errbacks run) rather than one failed after it
cv_follow = function(links_json, from, state, result, error_json, at, fire)
  local plan = cjson.decode(links_json)
  local k = plan.k
  local ok = (state == 'Completed' or state == 'Cached')
  if ok then
    for _, t in ipairs(plan.ok or {}) do
      cv_release(t, k, result or 'null', at, 'run ' .. from .. ' completed')
    end
    for _, t in ipairs(plan.err or {}) do
      cv_end(t, k, 'Cancelled', 'CANCELLED', 'not needed: run ' .. from .. ' completed', nil,
        at, false)
    end
  else
    local down, down_type = 'Failed', 'FAILED'
    if state == 'Cancelled' then
      down, down_type = 'Cancelled', 'CANCELLED'
    end
    for _, t in ipairs(plan.ok or {}) do
      cv_end(t, k, down, down_type, 'upstream run ' .. from .. ' ended ' .. state, error_json,
        at, false)
    end
    for _, t in ipairs(plan.err or {}) do
      if fire then
        cv_release(t, k, '"' .. from .. '"', at, 'run ' .. from .. ' ended ' .. state)
      else
        cv_end(t, k, 'Cancelled', 'CANCELLED', 'not needed: run ' .. from .. ' did not run',
          nil, at, false)
      end
    end
  end
  if plan.chord then
    cv_chord(plan.chord, k, from, ok, result or 'null', error_json, at)
  end
end

-- called by transition.lua once `run_key` (run `run_id`) entered terminal state `state` at
-- `at` (ISO 8601) / `score` (epoch seconds)
local function canvas_follow(run_key, run_id, state, links_json, result_json, at, score)
  cv_clock = tonumber(score) or 0
  local result = nil
  if state == 'Completed' or state == 'Cached' then
    result = result_json
    if result == '' then  -- kept in the record, or under the key result_ref names
      local held = redis.call('HMGET', run_key, 'result', 'result_ref')
      result = held[1] or (held[2] and redis.call('GET', held[2])) or 'null'
    end
  end
  local error_json = redis.call('HGET', run_key, 'error')
  if not error_json or error_json == '' then
    error_json = nil
  end
  cv_follow(links_json, run_id, state, result, error_json, at, true)
end
