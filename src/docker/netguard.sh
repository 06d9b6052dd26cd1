#!/bin/sh
# Runs as root holding only NET_ADMIN, in a short-lived container that shares the network
# namespace of a build container that has run nothing yet (repoctl's network guard, issue 23
# item 5). Sets the routes that keep the build off link-local addresses and this machine's own
# addresses; the build container holds no NET_ADMIN, so nothing in it can change them.
# Arguments, one route each:
#   unreachable:PREFIX   the kernel answers "No route to host" for PREFIX
#   via:ADDRESS/32       ADDRESS (a resolver Docker's DNS forwards to from inside the
#                        namespace) stays reachable through the default gateway
set -eu
gateway=$(ip -4 route show default | awk '{ print $3; exit }')
[ -n "$gateway" ] || { echo "netguard: no default route" >&2; exit 1; }
for route in "$@"; do
  case $route in
    unreachable:*) ip -4 route add unreachable "${route#unreachable:}" ;;
    via:*) ip -4 route add "${route#via:}" via "$gateway" ;;
    *) echo "netguard: unknown route $route" >&2; exit 1 ;;
  esac
done
# repoctl's network has no IPv6. Where the daemon leaves IPv6 on in containers, every address
# but loopback's goes (link-local ones reach this machine), so nothing is sent over IPv6.
if [ "$(cat /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null || echo 1)" = 0 ]; then
  for dev in /sys/class/net/*; do
    dev=${dev##*/}
    [ "$dev" = lo ] && continue
    ip -6 addr flush dev "$dev"
    ip -6 route flush dev "$dev" 2>/dev/null || true
  done
  if ip -6 addr show | grep -v ' ::1/128 ' | grep -q 'inet6 '; then
    echo "netguard: an IPv6 address is left" >&2
    exit 1
  fi
fi
echo "netguard: $# route(s) set"
