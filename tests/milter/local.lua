-- Mail from sendmail(1) (a bare address, from 127.0.0.1) and the null
-- sender when it is not exempt (exempt.null_sender = false).
dofile(dir .. "/lib.lua")

local lo = { host = "localhost", ip = "127.0.0.1" }
local function l(from)
    return { host = lo.host, ip = lo.ip, from = from }
end

check("sendmail(1), tempfail policy: local_action hold, never tempfail",
      l("spam@flood.example"), HOLD)
check("sendmail(1), tempfail policy, local_action accept",
      l("a@localok.example"), ACCEPT)
check("SMTP, the same policy: tempfail",
      { from = "<a@localok.example>" }, TEMPFAIL)
check("sendmail(1), hold policy: hold",
      l("x@hold.example"), HOLD)
check("sendmail(1), unthrottled: accept",
      l("a@other.example"), ACCEPT)
check("null sender <> not exempt: its key MAILER-DAEMON is throttled",
      { from = "<>" }, TEMPFAIL)
check("sendmail(1) null sender (empty): local_action hold",
      l(""), HOLD)
