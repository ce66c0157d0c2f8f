# qshape-milter: the metered release of held mail ("qshapectl release
# --metered", qshapectl(8)) every minute, as root because postsuper(1)
# must, on systems without systemd; under systemd, qshape-release.timer
# does it and this line does nothing.  Without a policy with
# release_held = "metered" each run does nothing.  What it prints goes to
# syslog (facility mail), not to root's mailbox.
SHELL=/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin

* * * * *	root	[ -d /run/systemd/system ] || [ ! -x /usr/sbin/qshapectl ] || /usr/sbin/qshapectl release --metered 2>&1 | logger -t qshapectl -p mail.info
