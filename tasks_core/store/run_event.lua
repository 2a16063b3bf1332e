-- run_event.lua: the one builder of run-state events, prepended to create.lua,
-- transition.lua and canvas_follow.lua when they are loaded (store/runs.py), so a run's
-- creation and every transition store the same shape. Stored compact (nothing derivable):
-- a JSON array, the stream entry's one field ``run``:
--   [id, at, kind, run_id, name, related, from_state, from_type, to_state, to_type,
--    validated_state, follows]
-- which tasks_core/run_event_codec.py expands to the full event documented in
-- tasks_core/events/run_events.py ("event": "tasks-core.<kind>-run.<State>", its resource,
-- related resources, "received" = "occurred", payload intended/initial/validated state).
-- KEYS[] none: no script of its own, a pure function of its arguments.
-- Returns the array's JSON text. Arguments:
--   id, at        the event's id and time (ISO 8601)
--   kind, run_id, name, related_json   the run (related: JSON, as stored on the record)
--   from_state, from_type              the state left (false: the run is being created)
--   to_state, to_type                  the state entered and its type
--   validated_json                     the state entered as JSON {"name","type",...}, or
--                                      'null' when derivable (the codec fills it in)
--   follows                            the run's previous event id (false or '': none)
local function run_event(id, at, kind, run_id, name, related_json, from_state, from_type,
                         to_state, to_type, validated_json, follows)
  local from, from_t = 'null', 'null'
  if from_state then
    from = '"' .. from_state .. '"'
    from_t = '"' .. (from_type or '') .. '"'
  end
  local previous = 'null'
  if follows and follows ~= '' then
    previous = '"' .. follows .. '"'
  end
  local related = related_json
  if not related or related == '' then
    related = '[]'
  end
  return '["' .. id .. '","' .. at .. '","' .. kind .. '","' .. run_id .. '",'
    .. cjson.encode(name or '') .. ',' .. related .. ',' .. from .. ',' .. from_t .. ',"'
    .. to_state .. '","' .. to_type .. '",' .. validated_json .. ',' .. previous .. ']'
end
