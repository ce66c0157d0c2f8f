-- Hostile MAIL FROM input that miltertest can send (arguments under 1 KiB:
-- miltertest copies them into a 1024-byte buffer; tests/milter/mtraw sends
-- the rest).  Each must get a verdict; where the verdict is determined,
-- the exact one.  exempt.null_sender = false, log_accepts = true.
dofile(dir .. "/lib.lua")

check("a NUL byte after the address (miltertest cuts the argument there)",
      { from = "<spam@flood.example>\0junk" }, TEMPFAIL)
check_any("a NUL byte inside the address", { from = "<sp\0am@flood.example>" })
check("unbalanced bracket <a@flood.example: domain still flood.example",
      { from = "<a@flood.example" }, TEMPFAIL)
check_any("trailing bracket only: a@flood.example>",
	  { from = "a@flood.example>" })
check_any("doubled brackets <<spam@flood.example>>",
	  { from = "<<spam@flood.example>>" })
check_any("a lone <", { from = "<" })
check_any("a lone >", { from = ">" })
check_any("a lone @", { from = "<@>" })
check_any("only dots and at signs", { from = "<..@@..>" })
check("ESMTP parameters after the address",
      { from = { "<spam@flood.example>", "SIZE=1000", "BODY=8BITMIME" } },
      TEMPFAIL)
check("no client address (family unknown), no macros",
      { host = "nowhere", ip = "unspec", from = "<spam@flood.example>" },
      TEMPFAIL)
check("an empty {auth_authen}", { from = "<a@other.example>", sasl = "" },
      ACCEPT)
check("a 990-byte local part at a throttled domain",
      { from = "<" .. string.rep("a", 970) .. "@flood.example>" }, TEMPFAIL)
check_any("bytes that are not UTF-8",
	  { from = "<\255\254@\128\129.example>" })
check_any("control characters", { from = "<\1\2\3\27[31m@flood.example>" })
-- "<" and ">" alone: Postfix answers 501 before a milter sees them; read
-- as Postfix would, they leave no address: the null sender, whose key
-- MAILER-DAEMON the fixture throttles.
check_conn("hostile and plain messages on one connection",
	   {}, { { from = "<" }, { from = "<spam@flood.example>" },
		 { from = ">" },
		 { from = "<x@hold.example>", reason = "qshape-milter policy=holddom key=sender_domain:hold.example" } },
	   TEMPFAIL .. " | " .. TEMPFAIL .. " | " .. TEMPFAIL .. " | " .. HOLD)
