-- wrk script for the bench: POSTs a chat completion to bench-model; `-- stream` asks for an
-- SSE stream, which wrk times until the last chunk. At the end it prints one line,
-- "BENCH_RESULT {json}", that bench/_wrk.ts reads instead of wrk's human report.

function init(args)
  local stream = args[1] == "stream"
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"model":"bench-model","stream":' .. tostring(stream) ..
    ',"messages":[{"role":"user","content":"Say hello"}]}'
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"durationUs":%d,"bytes":%d,"p50Us":%d,"p99Us":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
