-- Signed-in page views, rendered on the server: GET $PATH with the session cookie.
dofile("load/report.lua")
wrk.method = "GET"
wrk.path = os.getenv("PAGE") or "/vehicles"
wrk.headers["Cookie"] = os.getenv("COOKIE")
