-- wrk script: POST unique comments (unique email and text per request, so neither the
-- duplicate check nor flood control refuses them). Env: BENCH_KEY, BENCH_RUN.
local counter = 0
local key = os.getenv("BENCH_KEY") or "none"
local run = os.getenv("BENCH_RUN") or "0"
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"thread_id":"bench-%s","author_name":"Bench reader","author_email":"r%s.%d.%d@example.com",' ..
    '"text":"Benchmark comment %s-%d-%d: a calm, ordinary remark about the article."}',
    run, run, tid, counter, run, tid, counter)
  return wrk.format("POST", "/v1/comments",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}, body)
end
