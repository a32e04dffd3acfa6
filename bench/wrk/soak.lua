-- Readers for `make soak` (bench/soak_run.py runs wrk with this in short segments):
-- each connection walks the list of paths in the file named after `--`; every
-- response is counted by the second it arrived in and its status (so 500s can
-- be placed against the outages) and by its X-Page-Cache header. done() prints
-- one SOAKJSON line: those counts, wrk's errors and latency quantiles every
-- 0.5 % (the driver merges segments from them).
local threads = {}

setup = function(thread)
  thread:set("start", #threads * 7)
  table.insert(threads, thread)
end

init = function(args)
  paths = {}
  for line in io.lines(args[1]) do
    if line ~= "" then table.insert(paths, line) end
  end
  i = (start or 0) % #paths
  seconds, cache = {}, {}
end

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

response = function(status, headers, body)
  local key = os.time() .. ":" .. status
  seconds[key] = (seconds[key] or 0) + 1
  local state = headers["X-Page-Cache"] or headers["x-page-cache"] or "none"
  cache[state] = (cache[state] or 0) + 1
end

local function encode(t)
  local parts = {}
  for k, v in pairs(t) do table.insert(parts, string.format('"%s":%d', k, v)) end
  return "{" .. table.concat(parts, ",") .. "}"
end

done = function(summary, latency, requests)
  local secs, caches = {}, {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("seconds")) do secs[k] = (secs[k] or 0) + v end
    for k, v in pairs(t:get("cache")) do caches[k] = (caches[k] or 0) + v end
  end
  local q = {}
  for p = 0.25, 99.76, 0.5 do table.insert(q, latency:percentile(p)) end
  local e = summary.errors
  io.write(string.format(
    'SOAKJSON {"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"timeouts":%d,"max_us":%d,"p50_us":%d,"p99_us":%d,' ..
    '"quantiles_us":[%s],"seconds":%s,"cache":%s}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout,
    latency.max, latency:percentile(50), latency:percentile(99),
    table.concat(q, ","), encode(secs), encode(caches)))
end
