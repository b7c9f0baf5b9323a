-- wrk script for bench/http.sh: sends DEPTH requests (default 16) per
-- write; wrk writes again when all DEPTH responses are in.
-- Usage: wrk -s bench/http_pipeline.lua URL -- DEPTH
init = function(args)
  local depth = tonumber(args[1]) or 16
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format()
  end
  req = table.concat(r)
end

request = function()
  return req
end
