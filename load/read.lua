-- A server-function read, as the browser sends it: same-origin POST with the session cookie.
dofile("load/report.lua")
wrk.method = "POST"
wrk.path = os.getenv("ENDPOINT") or "/api/vehicles/list"
wrk.headers["Cookie"] = os.getenv("COOKIE")
-- ACCEPT_ENCODING: what a browser asks for (the *-compressed scenarios); unset, wrk's default
-- (nothing compressed).
if os.getenv("ACCEPT_ENCODING") then
  wrk.headers["Accept-Encoding"] = os.getenv("ACCEPT_ENCODING")
end
wrk.headers["Origin"] = os.getenv("ORIGIN")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = os.getenv("BODY") or ""
