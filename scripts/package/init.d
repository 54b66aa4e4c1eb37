#!/bin/sh
### BEGIN INIT INFO
# Provides:          spanshim-collector
# Required-Start:    $local_fs $remote_fs $network
# Required-Stop:     $local_fs $remote_fs $network
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: spanshim collector
# Description:       Receives the spans of traced programs on
#                    /run/spanshim/spanshim.sock and writes or forwards them.
### END INIT INFO

# The host's collector where systemd does not run it (a chroot, a container,
# sysvinit): the same socket and options as spanshim-collector.service.

PATH=/usr/sbin:/usr/bin:/sbin:/bin
DAEMON=/usr/bin/spanshim-collector
PIDFILE=/run/spanshim/collector.pid
OPTIONS="--jsonl /var/log/spanshim/spans.jsonl --logs-jsonl /var/log/spanshim/logs.jsonl"

[ -x "$DAEMON" ] || exit 0
[ -r /etc/spanshim/collector.conf ] && . /etc/spanshim/collector.conf

. /lib/lsb/init-functions

case "$1" in
start)
	log_daemon_msg "Starting spanshim collector" "spanshim-collector"
	install -d -m 0755 /run/spanshim
	install -d -m 0750 /var/log/spanshim
	# shellcheck disable=SC2086
	start-stop-daemon --start --quiet --background --make-pidfile --pidfile "$PIDFILE" \
		--exec "$DAEMON" -- --socket /run/spanshim/spanshim.sock --socket-group spanshim \
		$OPTIONS
	status=$?
	# started means ready: the socket is there before programs look for it
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		[ -S /run/spanshim/spanshim.sock ] && break
		sleep 0.25
	done
	log_end_msg $status
	;;
stop)
	log_daemon_msg "Stopping spanshim collector" "spanshim-collector"
	start-stop-daemon --stop --quiet --retry TERM/10/KILL/5 --pidfile "$PIDFILE" --exec "$DAEMON"
	status=$?
	rm -f "$PIDFILE"
	log_end_msg $status
	;;
reload|force-reload)
	start-stop-daemon --stop --signal HUP --quiet --pidfile "$PIDFILE" --exec "$DAEMON"
	;;
restart)
	$0 stop
	$0 start
	;;
status)
	status_of_proc -p "$PIDFILE" "$DAEMON" spanshim-collector
	;;
*)
	echo "Usage: /etc/init.d/spanshim-collector {start|stop|reload|force-reload|restart|status}" >&2
	exit 3
	;;
esac
