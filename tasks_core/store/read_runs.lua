-- read_runs.lua: several run records in one call, each as one JSON object text, so a page
-- of runs crosses the wire as one string per run instead of two per field (the client's
-- reply parsing was most of a listing's time; see bench/api.py).
-- KEYS[1..n]  run hashes   p:run:<id>
-- ARGV        none
-- Returns, in the order of KEYS, the record's fields as a flat JSON object of strings
-- ({"id": "...", "state": "...", ...}, what HGETALL gives), or false when it does not exist.
local out = {}
for i, key in ipairs(KEYS) do
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then
    out[i] = false
  else
    local row = {}
    for j = 1, #flat, 2 do
      row[flat[j]] = flat[j + 1]
    end
    out[i] = cjson.encode(row)
  end
end
return out
