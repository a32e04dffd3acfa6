-- Readers for the mixed workload: each connection walks a list of paths (one a
-- line, in the file named after `--`) and every response's X-Page-Cache header
-- is counted, so the run reports its own cache hit ratio.
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
  -- Threads start at different places in the list.
  i = (start or 0) % #paths
  hits, misses, other, bad = 0, 0, 0, 0
end

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

response = function(status, headers, body)
  -- Through Varnish its own verdict counts (the app's header is the stored one's).
  local state = headers["X-Edge-Cache"] or headers["x-edge-cache"]
    or headers["X-Page-Cache"] or headers["x-page-cache"]
  if status ~= 200 then bad = bad + 1 end
  if state == "hit" then hits = hits + 1
  elseif state == "miss" then misses = misses + 1
  else other = other + 1 end
end

done = function(summary, latency, requests)
  local h, m, o, b = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    h = h + t:get("hits"); m = m + t:get("misses")
    o = o + t:get("other"); b = b + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,' ..
    '"p99_us":%d,"max_us":%d,"mean_us":%.1f,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"status_errors":%d,"timeouts":%d,"hits":%d,"misses":%d,' ..
    '"uncached":%d,"non_200":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout, h, m, o, b))
end
