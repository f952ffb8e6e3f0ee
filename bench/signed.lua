-- wrk script: each thread replays its share of pre-signed Shopify webhooks from REQUESTS_FILE.
-- A line is "<hmac base64>\t<event id>\t<body>". With STOP_AT_END=1 a thread stops after its share
-- (a fixed number of distinct orders); otherwise it starts over (steady load for a duration).
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(os.getenv("WRK_THREADS"))
  path = os.getenv("WRK_PATH")
  stop_at_end = os.getenv("STOP_AT_END") == "1"
  reqs = {}
  local i = 0
  for line in io.lines(os.getenv("REQUESTS_FILE")) do
    if i % nthreads == tid then
      local sig, event, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      reqs[#reqs + 1] = wrk.format("POST", path, {
        ["Content-Type"] = "application/json",
        ["X-Shopify-Topic"] = "orders/create",
        ["X-Shopify-Hmac-Sha256"] = sig,
        ["X-Shopify-Event-Id"] = event,
      }, body)
    end
    i = i + 1
  end
  n = 0
end

function request()
  n = n + 1
  if n > #reqs then
    if stop_at_end then
      wrk.thread:stop()
    end
    n = 1
  end
  return reqs[n]
end
