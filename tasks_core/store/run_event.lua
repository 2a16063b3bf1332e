-- run_event.lua: the one builder of run-state events, prepended to create.lua and
-- transition.lua when they are loaded (store/runs.py), so a run's creation and every
-- transition emit the same shape (documented in tasks_core/events/run_events.py):
--   {"id", "occurred", "event": "tasks-core.<kind>-run.<State>",
--    "resource": {"tasks-core.resource.id": "tasks-core.<kind>-run.<id>",
--                 "tasks-core.resource.name", "tasks-core.state-name", "tasks-core.state-type"},
--    "related": [...], "received", "follows": <previous event id or null>,
--    "payload": {"intended": {"from", "to"}, "initial_state": {"name", "type"} | null,
--                "validated_state": {"name", "type", "message"?}}}
-- KEYS[] none: no script of its own, a pure function of its arguments.
-- Returns the event's JSON text. Arguments:
--   id, at        the event's id and time (ISO 8601: occurred and received)
--   kind, run_id, name, related_json   the run (related: a JSON array, as stored)
--   from_state, from_type              the state left (false: the run is being created)
--   to_state, validated_json           the state entered, and its JSON {"name","type",...}
--   to_type, follows                   its type; the run's previous event id (false: none)
local function run_event(id, at, kind, run_id, name, related_json, from_state, from_type,
                         to_state, to_type, validated_json, follows)
  local from = 'null'
  local initial = 'null'
  if from_state then
    from = '"' .. from_state .. '"'
    initial = '{"name":"' .. from_state .. '","type":"' .. (from_type or '') .. '"}'
  end
  local previous = 'null'
  if follows and follows ~= '' then
    previous = '"' .. follows .. '"'
  end
  return '{"id":"' .. id .. '","occurred":"' .. at
    .. '","event":"tasks-core.' .. kind .. '-run.' .. to_state
    .. '","resource":{"tasks-core.resource.id":"tasks-core.' .. kind .. '-run.' .. run_id
    .. '","tasks-core.resource.name":' .. cjson.encode(name or '')
    .. ',"tasks-core.state-name":"' .. to_state .. '","tasks-core.state-type":"' .. to_type
    .. '"},"related":' .. (related_json or '[]') .. ',"received":"' .. at
    .. '","follows":' .. previous .. ',"payload":{"intended":{"from":' .. from .. ',"to":"'
    .. to_state .. '"},"initial_state":' .. initial .. ',"validated_state":' .. validated_json
    .. '}}'
end
