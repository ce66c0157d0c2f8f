-- SMTP mail from 127.0.0.1 and the null sender when it is not exempt
-- (exempt.null_sender = false).  Mail from sendmail(1) is presented by
-- Postfix's cleanup as 127.0.0.1 port 0, which miltertest cannot send:
-- run checks those with mtraw.
dofile(dir .. "/lib.lua")

local lo = { host = "localhost", ip = "127.0.0.1" }
local function l(from)
    return { host = lo.host, ip = lo.ip, from = from }
end

check("SMTP, the same policy: tempfail",
      { from = "<a@localok.example>" }, TEMPFAIL)
check("SMTP from 127.0.0.1, a bare address: still SMTP, tempfail",
      l("spam@flood.example"), TEMPFAIL)
check("null sender <> not exempt: its key MAILER-DAEMON is throttled",
      { from = "<>" }, TEMPFAIL)
