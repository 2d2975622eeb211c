-- wrk script for Isso: POST /new?uri=... with a unique comment per request (title given, so
-- Isso never fetches the thread's page). Env: BENCH_RUN.
local counter = 0
local run = os.getenv("BENCH_RUN") or "0"
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"title":"Bench","author":"Bench reader","email":"r%s.%d.%d@example.com",' ..
    '"text":"Benchmark comment %s-%d-%d: a calm, ordinary remark about the article."}',
    run, tid, counter, run, tid, counter)
  return wrk.format("POST", "/new?uri=%2Fbench-" .. run,
    {["Content-Type"] = "application/json"}, body)
end
