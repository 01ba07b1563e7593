/* Copyright (c) FlowEngine contributors. Licensed under the MIT License. */
#include <time.h>

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "fe_shim.h"
#include "fe_internal.h"

static inline int64_t host_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

FE_EXPORT int32_t fe_rx_burst(uint16_t port_id, uint16_t queue_id, void **mbufs, struct fe_rx_desc *descs,
	uint16_t count)
{
	struct rte_mbuf **bufs = (struct rte_mbuf **)mbufs;
	const uint32_t ts_scale = fe_timestamp_scale[port_id];
	const uint64_t ts_flag = ts_scale != 0 ? __atomic_load_n(&fe_timestamp_flag, __ATOMIC_ACQUIRE) : 0;
	const int ts_offset = fe_timestamp_offset;
	int64_t host_ns = -1;
	uint16_t n;

	n = rte_eth_rx_burst(port_id, queue_id, bufs, count);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = bufs[i];
		struct fe_rx_desc *d = &descs[i];
		uint32_t flags = 0;

		d->data = (uint64_t)(uintptr_t)rte_pktmbuf_mtod(m, void *);
		d->data_len = m->data_len;
		d->pkt_len = m->pkt_len;
		if (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH) {
			d->rss_hash = m->hash.rss;
			flags |= FE_RX_RSS_HASH;
		} else {
			d->rss_hash = 0;
		}
		if (ts_flag != 0 && (m->ol_flags & ts_flag)) {
			d->timestamp_ns = (int64_t)(*RTE_MBUF_DYNFIELD(m, ts_offset, rte_mbuf_timestamp_t *) * ts_scale);
			flags |= FE_RX_TIMESTAMP;
		} else {
			if (host_ns < 0)
				host_ns = host_clock_ns();
			d->timestamp_ns = host_ns;
		}
		if (unlikely(m->nb_segs > 1))
			flags |= FE_RX_MULTISEG;
		d->flags = flags;
	}
	return n;
}

FE_EXPORT int32_t fe_tx_burst(uint16_t port_id, uint16_t queue_id, void **mbufs, uint16_t count)
{
	return rte_eth_tx_burst(port_id, queue_id, (struct rte_mbuf **)mbufs, count);
}

FE_EXPORT void fe_mbuf_free_bulk(void **mbufs, uint32_t count)
{
	rte_pktmbuf_free_bulk((struct rte_mbuf **)mbufs, count);
}
