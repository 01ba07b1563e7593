#!/usr/bin/env bash
# FlowEngine traffic lab: builds a virtual network of network namespaces (2 hypervisors + a gateway VTEP on an
# underlay, Linux VXLAN, 2 tenants with the SAME inner range 10.0.0.0/24, 12 VMs, NAT gateway, external hosts),
# runs a seeded schedule of normal traffic (training phase) and normal traffic with attacks (evaluation phase),
# captures the underlay (SPAN port, VXLAN) and the gateway's outside interface, tears everything down and
# post-processes the captures (pcapng, simulated-days time warp, labels, inventory). See README.md beside it.
#
#   sudo benchmarks/lab/run.sh --minutes N --seed S --out DIR [options]
#
# Run as root. Everything is created under a unique per-run prefix and removed on exit, even after a failure.
# Nothing is routed out of the lab: no namespace has a default route and no address outside the lab is used.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

usage() {
  cat <<'EOF'
usage: run.sh --out DIR [--minutes N] [--train-minutes N] [--seed S] [--days-train D] [--days-eval D]
              [--attacks LIST] [--exfil-mb MB] [--snaplen BYTES] [--start-date YYYY-MM-DD] [--geneve-vni VNI]
  --minutes N         length of the evaluation phase (normal traffic + attacks), minutes (default 5; may be 0.5)
  --train-minutes N   length of the training phase (normal traffic only), minutes (default = --minutes; 0 = none)
  --seed S            seed of the schedule (default 1); same seed => same timeline
  --days-train D      simulated days the training phase represents (default 3)
  --days-eval D       simulated days the evaluation phase represents (default 2)
  --attacks LIST      comma list of portscan,synflood,exfil,c2,dnstunnel,lateral (default: all)
  --exfil-mb MB       size of the exfiltration transfer (default 30)
  --volume F          scale of normal transfer and file sizes (default 1; make-small.sh uses 0.05)
  --flood-count N     SYNs sent by the SYN flood (default 2500)
  --snaplen BYTES     capture snap length (default 262144)
  --start-date D      simulated date of the first training day (default 2025-03-03, a Monday, UTC)
  --geneve-vni VNI    VNI re-encapsulated as Geneve in eval-geneve.pcapng (default 5002; 0 = skip)
  --check-only        build the lab, check connectivity, tear it down (no traffic, no captures)
EOF
}

minutes=5; train_minutes=""; seed=1; out=""; days_train=3; days_eval=2; attacks="portscan,synflood,exfil,c2,dnstunnel,lateral"
exfil_mb=30; volume=1; flood_count=2500; snaplen=262144; start_date=2025-03-03; geneve_vni=5002; check_only=0
while (($#)); do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --train-minutes) train_minutes=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --days-train) days_train=$2; shift 2 ;;
    --days-eval) days_eval=$2; shift 2 ;;
    --attacks) attacks=$2; shift 2 ;;
    --exfil-mb) exfil_mb=$2; shift 2 ;;
    --volume) volume=$2; shift 2 ;;
    --flood-count) flood_count=$2; shift 2 ;;
    --snaplen) snaplen=$2; shift 2 ;;
    --start-date) start_date=$2; shift 2 ;;
    --geneve-vni) geneve_vni=$2; shift 2 ;;
    --check-only) check_only=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ -n "$out" ]] || { usage >&2; exit 2; }
[[ -n "$train_minutes" ]] || train_minutes=$minutes
(( EUID == 0 )) || { echo "run.sh: run as root (network namespaces)" >&2; exit 1; }
for tool in ip bridge tc nft ethtool tcpdump tshark editcap reordercap capinfos dnsmasq nmap hping3 iperf3 dig curl timeout; do
  command -v "$tool" >/dev/null || { echo "run.sh: missing tool $tool (see README.md for the Debian packages)" >&2; exit 1; }
done
PY=/usr/bin/python3; [[ -x $PY ]] || PY=$(command -v python3)
mkdir -p "$out"; out="$(cd "$out" && pwd)"

# Unique prefix per run; all namespaces are named $P-*, all host files live under $work and /etc/netns/$P-*.
P=""
for _ in $(seq 1 50); do
  cand=fl$(printf '%04d' $(( (RANDOM + $$) % 10000 )))
  if ! ip netns list | awk '{print $1}' | grep -q "^$cand-"; then P=$cand; break; fi
done
[[ -n "$P" ]] || { echo "run.sh: no free prefix" >&2; exit 1; }
work=$(mktemp -d "/tmp/$P.XXXXXX")
declare -a bg_pids=()
log() { printf '[lab %s %s] %s\n' "$P" "$(date +%H:%M:%S)" "$*" >&2; }

cleanup() {
  local rc=$?
  # A second INT/TERM (timeout signals the whole process group) must not cut the teardown short.
  trap '' INT TERM HUP
  set +e
  for pid in "${bg_pids[@]}"; do kill "$pid" 2>/dev/null; done
  # Processes still inside our own namespaces (services, clients) were all started by this run.
  for ns in $(ip netns list | awk '{print $1}' | grep "^$P-"); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
  done
  sleep 0.3
  for ns in $(ip netns list | awk '{print $1}' | grep "^$P-"); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
    rm -rf "/etc/netns/$ns"
  done
  [[ -f "$work/cgroups.json" ]] && $PY "$here/vmcgroup.py" remove --state "$work/cgroups.json"
  rm -rf /etc/netns/"$P"-* "$work"
  log "torn down (exit $rc)"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

nsx() { local ns=$1; shift; ip netns exec "$P-$ns" "$@"; }
# start a long-running service inside a namespace (in the VM's cgroups, when it is a VM); its pid is remembered
# for the teardown. The cgroups are joined before ip netns exec, which remounts /sys and hides the cgroup mounts.
svc() {
  local ns=$1; shift
  local procs; procs=$($PY "$here/vmcgroup.py" procs --state "$work/cgroups.json" "$ns" 2>/dev/null)
  ( for f in $procs; do echo "$BASHPID" > "$f"; done; exec ip netns exec "$P-$ns" "$@" ) >>"$work/services.log" 2>&1 &
  bg_pids+=($!)
}

# ---------------------------------------------------------------- schedule (deterministic for a seed)
log "schedule: seed $seed, train ${train_minutes} min -> ${days_train} days, eval ${minutes} min -> ${days_eval} days"
$PY "$here/schedule.py" --seed "$seed" --train-minutes "$train_minutes" --eval-minutes "$minutes" \
  --days-train "$days_train" --days-eval "$days_eval" --attacks "$attacks" --exfil-mb "$exfil_mb" \
  --volume "$volume" --flood-count "$flood_count" \
  --start-date "$start_date" --out "$out/timeline.json"
$PY "$here/labdef.py" inventory "$out/inventory.csv"
$PY "$here/labdef.py" externals "$out/externals.csv"

# ---------------------------------------------------------------- topology
log "building topology"
mapfile -t topo < <($PY "$here/labdef.py" shell)
declare -A ul_ip=()
for line in "${topo[@]}"; do set -- $line; [[ $1 == underlay ]] && ul_ip[$2]=$3; done
mk() { ip netns add "$P-$1"; nsx "$1" ip link set lo up; }

# underlay switch with a SPAN port: every frame entering the bridge is mirrored once to span0 -> captured on span1
mk ul
nsx ul ip link add ulbr type bridge; nsx ul ip link set ulbr up
nsx ul ip link add span0 type veth peer name span1
nsx ul ip link set span0 up; nsx ul ip link set span1 up
nsx ul sysctl -qw net.ipv6.conf.span0.disable_ipv6=1 net.ipv6.conf.span1.disable_ipv6=1 net.ipv6.conf.ulbr.disable_ipv6=1
for node in gw hv1 hv2; do
  mk "$node"
  ip link add "p$node" netns "$P-ul" type veth peer name ul0 netns "$P-$node"
  nsx ul ip link set "p$node" master ulbr; nsx ul ip link set "p$node" up
  nsx ul sysctl -qw "net.ipv6.conf.p$node.disable_ipv6=1"
  nsx ul tc qdisc add dev "p$node" handle ffff: ingress
  nsx ul tc filter add dev "p$node" parent ffff: protocol all u32 match u32 0 0 action mirred egress mirror dev span0
  nsx "$node" sysctl -qw net.ipv6.conf.ul0.disable_ipv6=1
  nsx "$node" ip addr add "${ul_ip[$node]}/24" dev ul0; nsx "$node" ip link set ul0 up
  nsx "$node" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done

# VXLAN segment per tenant on every VTEP; BUM traffic is replicated to the other VTEPs (head-end replication)
vxlan_on() { # node vni
  local node=$1 vni=$2
  nsx "$node" ip link add "vx$vni" type vxlan id "$vni" local "${ul_ip[$node]}" dstport 4789 dev ul0
  nsx "$node" ip link add "br$vni" type bridge
  nsx "$node" sysctl -qw "net.ipv6.conf.br$vni.disable_ipv6=1" "net.ipv6.conf.vx$vni.disable_ipv6=1"
  nsx "$node" ip link set "vx$vni" master "br$vni"; nsx "$node" ip link set "vx$vni" up; nsx "$node" ip link set "br$vni" up
  for other in gw hv1 hv2; do
    [[ $other == "$node" ]] || nsx "$node" bridge fdb append 00:00:00:00:00:00 dev "vx$vni" dst "${ul_ip[$other]}"
  done
}

# gateway: outside interface on the "internet" switch, NAT per tenant, policy routing keyed by conntrack mark
mk wan
nsx wan ip link add wanbr type bridge; nsx wan ip link set wanbr up
nsx wan sysctl -qw net.ipv6.conf.wanbr.disable_ipv6=1
ip link add pgw netns "$P-wan" type veth peer name ext0 netns "$P-gw"
nsx wan ip link set pgw master wanbr; nsx wan ip link set pgw up
nsx gw sysctl -qw net.ipv6.conf.ext0.disable_ipv6=1
nsx gw ip addr add 203.0.113.1/24 dev ext0; nsx gw ip link set ext0 up
nsx gw sysctl -qw net.ipv4.ip_forward=1
nft_rules="$work/gw.nft"
{
  echo "table ip lab {"
  echo "  chain pre_raw { type filter hook prerouting priority raw; policy accept;"
} >"$nft_rules"
declare -a tenant_lines=()
for line in "${topo[@]}"; do set -- $line; [[ $1 == tenant ]] && tenant_lines+=("$line"); done
for line in "${tenant_lines[@]}"; do
  set -- $line; vni=$3; public=$4
  echo "    iifname \"br$vni\" ct zone set $vni" >>"$nft_rules"
  echo "    iifname \"ext0\" ip daddr $public ct zone set $vni" >>"$nft_rules"
done
echo "  }" >>"$nft_rules"
echo "  chain pre_mark { type filter hook prerouting priority mangle; policy accept;" >>"$nft_rules"
for line in "${tenant_lines[@]}"; do
  set -- $line; vni=$3; public=$4
  echo "    iifname \"br$vni\" ct mark set $vni" >>"$nft_rules"
  echo "    iifname \"ext0\" ip daddr $public ct mark set $vni" >>"$nft_rules"
done
echo "    meta mark set ct mark" >>"$nft_rules"
echo "  }" >>"$nft_rules"
echo "  chain pre_dnat { type nat hook prerouting priority dstnat; policy accept;" >>"$nft_rules"
for line in "${tenant_lines[@]}"; do
  set -- $line; public=$4
  echo "    iifname \"ext0\" ip daddr $public tcp dport 80 dnat to numgen inc mod 2 map { 0 : 10.0.0.11, 1 : 10.0.0.12 }" >>"$nft_rules"
done
echo "  }" >>"$nft_rules"
echo "  chain post_snat { type nat hook postrouting priority srcnat; policy accept;" >>"$nft_rules"
for line in "${tenant_lines[@]}"; do
  set -- $line; vni=$3; public=$4
  echo "    oifname \"ext0\" ct mark $vni snat to $public" >>"$nft_rules"
done
echo "  }" >>"$nft_rules"
echo "}" >>"$nft_rules"
nsx gw nft -f "$nft_rules"

for line in "${tenant_lines[@]}"; do
  set -- $line; tenant=$2; vni=$3; gwmac=$5
  for node in gw hv1 hv2; do vxlan_on "$node" "$vni"; done
  nsx gw ip link set "br$vni" address "$gwmac"
  nsx gw ip addr add 10.0.0.1/24 dev "br$vni" noprefixroute
  nsx gw sysctl -qw "net.ipv4.conf.br$vni.rp_filter=0"
  nsx gw ip route add 10.0.0.0/24 dev "br$vni" table "$vni"
  nsx gw ip route add 203.0.113.0/24 dev ext0 table "$vni"
  nsx gw ip rule add fwmark "$vni" lookup "$vni" priority 100
done

# VMs: a namespace per VM, eth0 on its tenant's bridge in its hypervisor, MTU left for the VXLAN header
for line in "${topo[@]}"; do
  set -- $line; [[ $1 == vm ]] || continue
  name=$2; vni=$4; ip=$5; mac=$6; hv=$8
  mk "$name"
  port="v${vni}${name#*-}"
  ip link add "$port" netns "$P-$hv" type veth peer name eth0 netns "$P-$name"
  nsx "$hv" ip link set "$port" master "br$vni"; nsx "$hv" ip link set "$port" up
  nsx "$name" ip link set eth0 address "$mac"; nsx "$name" ip link set eth0 mtu 1450
  nsx "$name" ip addr add "$ip/24" dev eth0; nsx "$name" ip link set eth0 up
  nsx "$name" ip route add 203.0.113.0/24 via 10.0.0.1
  mkdir -p "/etc/netns/$P-$name"
  printf 'nameserver 203.0.113.53\noptions timeout:1 attempts:2\n' >"/etc/netns/$P-$name/resolv.conf"
done

# external hosts on the "internet" switch; they reach the tenants only through the gateway's public addresses
for line in "${topo[@]}"; do
  set -- $line; [[ $1 == ext ]] || continue
  name=$2; ip=$3
  mk "$name"
  ip link add "p$name" netns "$P-wan" type veth peer name eth0 netns "$P-$name"
  nsx wan ip link set "p$name" master wanbr; nsx wan ip link set "p$name" up
  nsx "$name" ip addr add "$ip/24" dev eth0; nsx "$name" ip link set eth0 up
  nsx "$name" ip route add 198.51.100.0/24 via 203.0.113.1
  mkdir -p "/etc/netns/$P-$name"
  printf 'nameserver 203.0.113.53\noptions timeout:1 attempts:2\n' >"/etc/netns/$P-$name/resolv.conf"
done

# No offloads anywhere: captured frames are wire-sized (no 64 KB GSO/GRO super-packets) with real checksums.
for ns in $(ip netns list | awk '{print $1}' | grep "^$P-"); do
  for dev in $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -vx lo); do
    ip netns exec "$ns" ethtool -K "$dev" tx off tso off gso off gro off >/dev/null 2>&1 || true
  done
done

# ---------------------------------------------------------------- a cgroup per VM (resource state timeline)
$PY "$here/vmcgroup.py" create --prefix "$P" --inventory "$out/inventory.csv" --state "$work/cgroups.json" --disk-of "$work"

# ---------------------------------------------------------------- content and services
log "starting services"
$PY "$here/content.py" --seed "$seed" --volume "$volume" --out "$work/content"
for line in "${topo[@]}"; do
  set -- $line; [[ $1 == vm ]] || continue
  name=$2; ip=$5; role=$7
  case $role in
    web) svc "$name" $PY -m http.server 80 --bind "$ip" --directory "$work/content/www" ;;
    api) svc "$name" $PY -m http.server 8080 --bind "$ip" --directory "$work/content/api" ;;
    db)  svc "$name" $PY "$here/services/dbsim.py" "$ip" 5432
         svc "$name" iperf3 -s -B "$ip" -p 5201 ;;
  esac
done
mapfile -t dns_args < <($PY "$here/labdef.py" dnsmasq-args)
svc xdns dnsmasq --no-daemon --no-resolv --no-hosts --no-poll --bind-interfaces --listen-address=203.0.113.53 \
  --except-interface=lo --port=53 --pid-file="$work/dnsmasq.pid" --user=root --cache-size=0 --log-facility=- "${dns_args[@]}"
svc xweb $PY -m http.server 80 --bind 203.0.113.80 --directory "$work/content/xweb"
svc xbak iperf3 -s -B 203.0.113.90 -p 5201
svc xc2 $PY -m http.server 8443 --bind 203.0.113.66 --directory "$work/content/c2"
svc xexf iperf3 -s -B 203.0.113.77 -p 443

# wait until the services answer (bounded), then a short connectivity check through VXLAN and the NAT
for _ in $(seq 1 50); do
  if nsx acme-web1 timeout 2 curl -s -o /dev/null http://10.0.0.21:8080/ 2>/dev/null \
     && nsx globex-ws1 timeout 2 dig +short +time=1 +tries=1 @203.0.113.53 www.example.test 2>/dev/null | grep -q 203.0.113.80 \
     && nsx acme-ws1 timeout 2 curl -s -o /dev/null http://www.example.test/ 2>/dev/null \
     && nsx xcli timeout 2 curl -s -o /dev/null http://198.51.100.12/ 2>/dev/null; then
    ok=1; break
  fi
  sleep 0.2
done
[[ ${ok:-} == 1 ]] || { log "connectivity check failed"; cat "$work/services.log" >&2; exit 1; }
log "lab is up"
(( check_only == 0 )) || exit 0

# ---------------------------------------------------------------- phases
capture_phase() { # phase
  local phase=$1 t1 t2
  ip netns exec "$P-ul" timeout -k 2 $(( 600 + ${2:-0} )) tcpdump -n -q -i span1 -s "$snaplen" --time-stamp-precision=nano \
    -w "$work/$phase-underlay.pcap" >>"$work/tcpdump.log" 2>&1 & t1=$!
  ip netns exec "$P-gw" timeout -k 2 $(( 600 + ${2:-0} )) tcpdump -n -q -i ext0 -s "$snaplen" --time-stamp-precision=nano \
    -w "$work/$phase-gateway.pcap" >>"$work/tcpdump.log" 2>&1 & t2=$!
  bg_pids+=("$t1" "$t2")
  $PY "$here/vmcgroup.py" record --state "$work/cgroups.json" --out "$out/$phase.vm-state.csv" & t3=$!
  bg_pids+=("$t3")
  sleep 1
  $PY "$here/executor.py" --timeline "$out/timeline.json" --phase "$phase" --prefix "$P" --here "$here" \
    --content "$work/content" --out "$out" --cgroups "$work/cgroups.json"
  sleep 1
  kill -INT "$t1" "$t2" 2>/dev/null || true
  kill -TERM "$t3" 2>/dev/null || true
  wait "$t1" "$t2" "$t3" 2>/dev/null || true
  # tcpdump writes pcap: convert to pcapng (nanosecond if_tsresol kept) and sort by timestamp (the SPAN copies
  # reach the capture from several CPUs, a few packets per minute by up to ~0.1 ms out of order)
  for cap in underlay gateway; do
    editcap -F pcapng "$work/$phase-$cap.pcap" "$work/$phase-$cap.unsorted.pcapng"
    reordercap "$work/$phase-$cap.unsorted.pcapng" "$out/$phase-$cap.pcapng" >/dev/null
    rm -f "$work/$phase-$cap.pcap" "$work/$phase-$cap.unsorted.pcapng"
  done
}
phase_seconds() { $PY -c "import json,sys; t=json.load(open(sys.argv[1])); print(int(t['phases'][sys.argv[2]]['real_seconds']))" "$out/timeline.json" "$1"; }
for phase in train eval; do
  secs=$(phase_seconds "$phase")
  (( secs > 0 )) || continue
  log "phase $phase: ${secs}s"
  capture_phase "$phase" "$secs"
done

# ---------------------------------------------------------------- post-processing (no root needed from here)
log "post-processing"
for phase in train eval; do
  [[ -f "$out/$phase-underlay.pcapng" ]] || continue
  $PY "$here/timewarp.py" --windows "$out/$phase.windows.csv" --labels "$out/$phase.labels.csv" \
    --in "$out/$phase-underlay.pcapng" "$out/$phase-gateway.pcapng" --suffix=-days
done
if [[ -f "$out/eval-underlay.pcapng" && "$geneve_vni" != 0 ]]; then
  $PY "$here/geneve.py" --vni "$geneve_vni" "$out/eval-underlay.pcapng" "$out/eval-geneve.pcapng"
fi
$PY "$here/summary.py" "$out" | tee "$out/summary.txt"
log "done: $out"
