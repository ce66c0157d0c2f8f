-- A fresh summary (tests/milter/run: fixture "main"), exempt.null_sender
-- = true: each kind of policy, each action, each exemption.
dofile(dir .. "/lib.lua")

check("tempfail at MAIL FROM for a throttled sender domain",
      { from = "<spam@Flood.Example>" }, TEMPFAIL)
check("hold: continue at MAIL FROM, quarantine at end of message",
      { from = "<x@Hold.Example>",
	reason = "qshape-milter policy=holddom key=sender_domain:hold.example" }, HOLD)
check("accept an unthrottled sender domain",
      { from = "<a@other.example>" }, ACCEPT)
check("parent_domain policy: a subdomain two levels down",
      { from = "<a@x.y.parent.example>" }, TEMPFAIL)
check("parent_domain policy: not the parent domain itself",
      { from = "<a@parent.example>" }, ACCEPT)
check("client_address policy, IPv4 client",
      { from = "<a@other.example>", ip = "203.0.113.9" }, TEMPFAIL)
check("client_address policy, IPv6 client",
      { from = "<a@other.example>", ip = "2001:db8:2::99" }, TEMPFAIL)
check("sasl_username policy ({auth_authen})",
      { from = "<a@other.example>", sasl = "bulkuser" }, TEMPFAIL)
check("sender policy (hold), address case folded",
      { from = "<Alice@Senders.Example>",
	reason = "qshape-milter policy=senders key=sender:alice@senders.example" },
      HOLD)
check("action log accepts",
      { from = "<a@watched.example>" }, ACCEPT)
check("a throttled key of another policy index does not match",
      { from = "<a@wrongpol.example>" }, ACCEPT)
check("exempt sender (case-insensitive) at a throttled domain",
      { from = "<Boss@Flood.Example>" }, ACCEPT)
check("exempt domain",
      { from = "<a@VIP.example>" }, ACCEPT)
check("exempt domain covers its subdomain",
      { from = "<a@sub.vip.example>" }, ACCEPT)
check("exempt domain does not cover notvip.example",
      { from = "<a@notvip.example>" }, TEMPFAIL)
check("exempt IPv4 network",
      { from = "<spam@flood.example>", ip = "198.51.100.7" }, ACCEPT)
check("exempt IPv6 network",
      { from = "<spam@flood.example>", ip = "2001:db8:1::25" }, ACCEPT)
check("IPv6 client outside the exempt network",
      { from = "<spam@flood.example>", ip = "2001:db8:2::25" }, TEMPFAIL)
check("IPv4-mapped IPv6 client in an exempt IPv4 network",
      { from = "<spam@flood.example>", ip = "::ffff:198.51.100.7" }, ACCEPT)
check("exempt SASL user at a throttled domain",
      { from = "<spam@flood.example>", sasl = "trusted" }, ACCEPT)
check("SASL user exemption is exact (Trusted)",
      { from = "<spam@flood.example>", sasl = "Trusted" }, TEMPFAIL)
check("null sender exempt (MAILER-DAEMON is throttled)",
      { from = "<>" }, ACCEPT)
check("UTF-8 sender domain",
      { from = "<user@bücher.example>" }, TEMPFAIL)
check("sender domain longer than a key (300 bytes)",
      { from = "<a@" .. string.rep("d", 292) .. ".example>" }, TEMPFAIL)
check_conn("three messages on one connection: tempfail, hold, accept",
	   {}, { { from = "<spam@flood.example>" },
		 { from = "<x@hold.example>", reason = "qshape-milter policy=holddom key=sender_domain:hold.example" },
		 { from = "<a@other.example>" } },
	   TEMPFAIL .. " | " .. HOLD .. " | " .. ACCEPT)
