/* Copyright (c) FlowEngine contributors. Licensed under the MIT License. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>

#include "fe_testing.h"
#include "fe_internal.h"

/* rte_eth_from_rings names the port "net_ring_<name>" in a 32-byte buffer. */
#define FE_RING_PORT_PREFIX "net_ring_"
#define FE_RING_PORT_NAME_MAX (32 - (int)sizeof(FE_RING_PORT_PREFIX))

static int32_t check_ring_name(const char *name)
{
	size_t n;

	if (name == NULL)
		return fe_fail(-EINVAL, "ring port: a name is required");
	n = strlen(name);
	if (n == 0 || n > FE_RING_PORT_NAME_MAX || n >= RTE_RING_NAMESIZE)
		return fe_fail(-ENAMETOOLONG, "ring port name '%s': 1 to %d characters", name, FE_RING_PORT_NAME_MAX);
	return 0;
}

FE_EXPORT int32_t fe_ring_port_create(const char *name, uint32_t capacity, int32_t socket_id, uint16_t *port_id)
{
	char port_name[RTE_ETH_NAME_MAX_LEN];
	struct rte_ring *ring;
	unsigned int socket;
	uint64_t ts_flag;
	int ts_offset;
	int ret;

	fe_clear_error();
	ret = check_ring_name(name);
	if (ret < 0)
		return ret;
	if (port_id == NULL || capacity == 0 || capacity > RTE_RING_SZ_MASK)
		return fe_fail(-EINVAL, "ring port %s: a port output and a capacity of 1 to %u are required", name,
			RTE_RING_SZ_MASK);
	/*
	 * net_ring registers no timestamp field of its own, and this library cannot tell the shim about one. Registered
	 * here, before the port is configured, the field is there when the shim looks it up (fe_port_configure and
	 * fe_port_start do), so the timestamps fe_mbuf_load writes are reported. Process-wide and idempotent; other
	 * ports only read it where the shim knows their unit.
	 */
	ret = rte_mbuf_dyn_rx_timestamp_register(&ts_offset, &ts_flag);
	if (ret < 0)
		return fe_fail(-(rte_errno > 0 ? rte_errno : ENOSPC), "ring port %s: registering the mbuf timestamp field failed",
			name);
	socket = socket_id < 0 ? (unsigned int)rte_socket_id() : (unsigned int)socket_id;
	if (socket == (unsigned int)SOCKET_ID_ANY)
		socket = 0;
	/* One producer (the TX caller) and one consumer (the RX caller); exactly capacity frames fit. */
	ring = rte_ring_create(name, capacity, (int)socket, RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (ring == NULL)
		return fe_fail(-(rte_errno > 0 ? rte_errno : ENOMEM), "ring port %s: rte_ring_create(%u entries, socket %u) failed",
			name, capacity, socket);
	/* The same ring is the RX and the TX queue: what is sent is received again, in order. */
	ret = rte_eth_from_rings(name, &ring, 1, &ring, 1, socket);
	if (ret < 0) {
		int err = rte_errno > 0 ? rte_errno : EINVAL;
		rte_ring_free(ring);
		return fe_fail(-err, "ring port %s: rte_eth_from_rings failed (is librte_net_ring loaded?)", name);
	}
	snprintf(port_name, sizeof(port_name), FE_RING_PORT_PREFIX "%s", name);
	ret = rte_eth_dev_get_port_by_name(port_name, port_id);
	if (ret < 0) {
		rte_eal_hotplug_remove("vdev", port_name);
		rte_ring_free(ring);
		return fe_fail(ret, "ring port %s: created, but no ethdev port named %s", name, port_name);
	}
	return 0;
}

FE_EXPORT int32_t fe_ring_port_destroy(const char *name)
{
	char port_name[RTE_ETH_NAME_MAX_LEN];
	void *bufs[64];
	struct rte_ring *ring;
	uint16_t port_id;
	unsigned int n;
	int ret;

	fe_clear_error();
	ret = check_ring_name(name);
	if (ret < 0)
		return ret;
	snprintf(port_name, sizeof(port_name), FE_RING_PORT_PREFIX "%s", name);
	if (rte_eth_dev_get_port_by_name(port_name, &port_id) == 0) {
		rte_eth_dev_stop(port_id);
		ret = rte_eal_hotplug_remove("vdev", port_name);
		if (ret < 0)
			return fe_fail(ret, "ring port %s: detaching %s failed", name, port_name);
	}
	/* The ring is this library's, not the driver's: the frames still queued go back to their pools with it. */
	ring = rte_ring_lookup(name);
	if (ring == NULL)
		return 0;
	while ((n = rte_ring_dequeue_burst(ring, bufs, RTE_DIM(bufs), NULL)) != 0)
		rte_pktmbuf_free_bulk((struct rte_mbuf **)bufs, n);
	rte_ring_free(ring);
	return 0;
}

FE_EXPORT int32_t fe_mbuf_load(void *pool, const uint8_t *data, const uint32_t *lengths, const int64_t *timestamps_ns,
	uint32_t count, void **mbufs)
{
	struct rte_mbuf **bufs = (struct rte_mbuf **)mbufs;
	int ts_offset = -1;
	uint64_t ts_flag = 0;
	uint64_t at = 0;
	int ret;

	fe_clear_error();
	if (pool == NULL || (data == NULL && count != 0) || lengths == NULL || mbufs == NULL)
		return fe_fail(-EINVAL, "mbuf load: pool, data, lengths and output are required");
	if (timestamps_ns != NULL) {
		ret = rte_mbuf_dyn_rx_timestamp_register(&ts_offset, &ts_flag);
		if (ret < 0)
			return fe_fail(-(rte_errno > 0 ? rte_errno : ENOSPC), "mbuf load: registering the timestamp field failed");
	}
	ret = rte_pktmbuf_alloc_bulk(pool, bufs, count);
	if (ret != 0)
		return fe_fail(-ENOBUFS, "mbuf load: %u buffers requested, %u available in %s", count,
			rte_mempool_avail_count(pool), ((struct rte_mempool *)pool)->name);
	for (uint32_t i = 0; i < count; i++) {
		struct rte_mbuf *m = bufs[i];
		char *p = lengths[i] > UINT16_MAX ? NULL : rte_pktmbuf_append(m, (uint16_t)lengths[i]);

		if (p == NULL) {
			rte_pktmbuf_free_bulk(bufs, count);
			return fe_fail(-EMSGSIZE, "mbuf load: frame %u of %u bytes exceeds a buffer's %u bytes of room", i,
				lengths[i], rte_pktmbuf_tailroom(m));
		}
		memcpy(p, data + at, lengths[i]);
		at += lengths[i];
		if (timestamps_ns != NULL) {
			*RTE_MBUF_DYNFIELD(m, ts_offset, rte_mbuf_timestamp_t *) = (rte_mbuf_timestamp_t)timestamps_ns[i];
			m->ol_flags |= ts_flag;
		}
	}
	return 0;
}
