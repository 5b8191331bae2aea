-- A server-function read, as the browser sends it: same-origin POST with the session cookie.
dofile("load/report.lua")
wrk.method = "POST"
wrk.path = os.getenv("ENDPOINT") or "/api/vehicles/list"
wrk.headers["Cookie"] = os.getenv("COOKIE")
wrk.headers["Origin"] = os.getenv("ORIGIN")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = os.getenv("BODY") or ""
