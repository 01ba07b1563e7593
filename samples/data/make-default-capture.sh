#!/usr/bin/env bash
# Records samples/data/default.pcapng: real kernel VXLAN traffic between two "hypervisor" namespaces, two tenants
# (VNI 100 and 200) with the same inner addresses, ping, HTTP and UDP between their "VMs". Run as root.
# Everything it creates is removed on exit, even after a failure; every traffic step is bounded in count and time.
set -euo pipefail
out="$(cd "$(dirname "$0")" && pwd)/default.pcapng"
p=fedc$$
hv1=${p}hv1; hv2=${p}hv2
cleanup() {
  for ns in $hv1 $hv2 ${p}a100 ${p}b100 ${p}a200 ${p}b200; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT
for ns in $hv1 $hv2; do ip netns add "$ns"; done
ip link add ${p}u1 netns $hv1 type veth peer name ${p}u2 netns $hv2
ip -n $hv1 addr add 192.0.2.1/24 dev ${p}u1; ip -n $hv1 link set ${p}u1 up
ip -n $hv2 addr add 192.0.2.2/24 dev ${p}u2; ip -n $hv2 link set ${p}u2 up
for ns in $hv1 $hv2; do ip -n "$ns" link set lo up; done
vm=0
for vni in 100 200; do
  for side in 1 2; do
    hv=$([[ $side == 1 ]] && echo $hv1 || echo $hv2)
    local_ip=192.0.2.$side; remote_ip=192.0.2.$((3 - side))
    ip -n "$hv" link add vx$vni type vxlan id $vni local "$local_ip" remote "$remote_ip" dstport 4789 dev ${p}u$side
    ip -n "$hv" link add br$vni type bridge
    ip -n "$hv" link set vx$vni master br$vni; ip -n "$hv" link set vx$vni up; ip -n "$hv" link set br$vni up
    name=${p}$([[ $side == 1 ]] && echo a || echo b)$vni
    ip netns add "$name"
    ip link add v$vni netns "$hv" type veth peer name eth0 netns "$name"
    ip -n "$hv" link set v$vni master br$vni; ip -n "$hv" link set v$vni up
    ip -n "$name" addr add 10.0.0.$side/24 dev eth0; ip -n "$name" link set eth0 up; ip -n "$name" link set lo up
    ip -n "$name" link set eth0 mtu 1450
  done
done
ip netns exec $hv1 timeout 60 tcpdump -q -i ${p}u1 -w "$out.tmp" --time-stamp-precision=nano 2>/dev/null &
tcpdump_pid=$!
sleep 1
for vni in 100 200; do
  ip netns exec ${p}b$vni timeout 20 python3 -m http.server 8080 --bind 10.0.0.2 >/dev/null 2>&1 &
done
sleep 1
for vni in 100 200; do
  ip netns exec ${p}a$vni ping -c 3 -i 0.2 -W 1 10.0.0.2 >/dev/null
  ip netns exec ${p}a$vni curl -s -m 5 -o /dev/null http://10.0.0.2:8080/
  ip netns exec ${p}a$vni curl -s -m 5 -o /dev/null http://10.0.0.2:8080/missing
  ip netns exec ${p}b$vni bash -c 'for i in 1 2 3; do echo "sample $i" > /dev/udp/10.0.0.1/5353; done'
done
ip netns exec ${p}a100 ping -6 -c 2 -i 0.2 -W 1 ff02::1%eth0 >/dev/null 2>&1 || true
sleep 1
kill $tcpdump_pid; wait $tcpdump_pid 2>/dev/null || true
mv "$out.tmp" "$out"
echo "wrote $out"
