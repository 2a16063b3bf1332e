-- run_event.lua: the one builder of run-state events, prepended to create.lua,
-- transition.lua and canvas_follow.lua when they are loaded (store/runs.py), so a run's
-- creation and every transition store the same shape. Stored compact (nothing derivable):
-- a JSON array, the stream entry's one field ``run``:
--   [n, at_us, kind, run_id, name, related, from_state, to_state, validated_state, follows,
--    created_us]
-- which tasks_core/run_event_codec.py expands to the full event documented in
-- tasks_core/events/run_events.py ("event": "tasks-core.<kind>-run.<State>", its id derived
-- from run_id, the run's creation time and n, its resource, related resources, the state
-- types from the names, "received" = "occurred", payload intended/initial/validated state,
-- "follows" the run's event n - 1 unless stored).
-- KEYS[] none: no script of its own, a pure function of its arguments.
-- Returns the array's JSON text. Arguments:
--   n             the event's number in its run (1: the creation), which is also the number
--                 of the history entry the same step writes (h<n>)
--   at_us         the event's time, integer microseconds since the Unix epoch (text)
--   kind, run_id, name, related_json   the run (related: JSON, as stored on the record)
--   from_state                         the state left (false: the run is being created)
--   to_state                           the state entered
--   validated_json                     the state entered as JSON {"name","type",...}, or
--                                      'null' when derivable (the codec fills it in)
--   follows                            an event id the event follows when it is not the
--                                      run's previous one (a creation by an automation:
--                                      the triggering event, or a record's last event
--                                      id from before ids were derived), else false
--   created_us                         the run's creation time (integer µs, text: its
--                                      first history entry's), so that a run id used
--                                      again after its record expired gets other event
--                                      ids; false for event 1 (its own at_us) or when
--                                      unknown (a record from before)
local function run_event(n, at_us, kind, run_id, name, related_json, from_state, to_state,
                         validated_json, follows, created_us)
  local from = 'null'
  if from_state then
    from = '"' .. from_state .. '"'
  end
  local previous = 'null'
  if follows and follows ~= '' then
    previous = '"' .. follows .. '"'
  end
  local related = related_json
  if not related or related == '' then
    related = '[]'
  end
  return '[' .. n .. ',' .. at_us .. ',"' .. kind .. '","' .. run_id .. '",'
    .. cjson.encode(name or '') .. ',' .. related .. ',' .. from .. ',"' .. to_state .. '",'
    .. validated_json .. ',' .. previous .. ',' .. (created_us or 'null') .. ']'
end

