-- Signed-in page views, rendered on the server: GET $PATH with the session cookie.
dofile("load/report.lua")
wrk.method = "GET"
wrk.path = os.getenv("PAGE") or "/vehicles"
wrk.headers["Cookie"] = os.getenv("COOKIE")
-- ACCEPT_ENCODING: what a browser asks for (the *-compressed scenarios); unset, wrk's default
-- (nothing compressed).
if os.getenv("ACCEPT_ENCODING") then
  wrk.headers["Accept-Encoding"] = os.getenv("ACCEPT_ENCODING")
end
