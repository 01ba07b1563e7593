/* Copyright (c) FlowEngine contributors. Licensed under the MIT License. */
#include <errno.h>
#include <inttypes.h>
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

/* Frees the previous burst and receives the next one into the same array, with its descriptors. */
static inline uint16_t rx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **bufs, uint16_t nb_free,
	struct fe_rx_desc *descs, uint16_t count)
{
	const uint32_t ts_scale = fe_timestamp_scale[port_id];
	const uint64_t ts_flag = ts_scale != 0 ? __atomic_load_n(&fe_timestamp_flag, __ATOMIC_ACQUIRE) : 0;
	const int ts_offset = fe_timestamp_offset;
	int64_t host_ns = -1;
	uint16_t n;

	if (nb_free != 0)
		rte_pktmbuf_free_bulk(bufs, nb_free);
	n = rte_eth_rx_burst(port_id, queue_id, bufs, count);
	for (uint16_t i = 0; i < n; i++) {
		const struct rte_mbuf *m = bufs[i];
		struct fe_rx_desc *d = &descs[i];

		d->data = (uint64_t)(uintptr_t)rte_pktmbuf_mtod(m, void *);
		d->pkt_len = m->pkt_len;
		d->data_len = m->data_len;
		d->flags = unlikely(m->nb_segs > 1) ? FE_RX_MULTISEG : 0;
		if (ts_flag != 0 && (m->ol_flags & ts_flag)) {
			d->timestamp_ns = (int64_t)(*RTE_MBUF_DYNFIELD(m, ts_offset, rte_mbuf_timestamp_t *) * ts_scale);
		} else {
			if (host_ns < 0)
				host_ns = host_clock_ns();
			d->timestamp_ns = host_ns;
		}
	}
	return n;
}

FE_EXPORT int32_t fe_rx_burst(uint16_t port_id, uint16_t queue_id, void **mbufs, uint16_t nb_free,
	struct fe_rx_desc *descs, uint16_t count)
{
	return rx_burst(port_id, queue_id, (struct rte_mbuf **)mbufs, nb_free, descs, count);
}

/* Sends a burst; what the device did not take is freed when asked (else it stays the caller's). */
static inline uint16_t tx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **bufs, uint16_t count,
	uint8_t free_unsent)
{
	uint16_t sent = count == 0 ? 0 : rte_eth_tx_burst(port_id, queue_id, bufs, count);

	if (free_unsent && unlikely(sent < count))
		rte_pktmbuf_free_bulk(bufs + sent, count - sent);
	return sent;
}

FE_EXPORT int32_t fe_tx_burst(uint16_t port_id, uint16_t queue_id, void **mbufs, uint16_t count, uint8_t free_unsent)
{
	return tx_burst(port_id, queue_id, (struct rte_mbuf **)mbufs, count, free_unsent);
}

FE_EXPORT void fe_mbuf_free_bulk(void **mbufs, uint32_t count)
{
	rte_pktmbuf_free_bulk((struct rte_mbuf **)mbufs, count);
}

#ifdef FE_BENCH
/* Benchmark baselines: built only into build/libflowshim_bench.so, never into the shipped libflowshim.so. */
/* The benchmark loops' argument check: 0, or a negative errno with the message set. */
static int bench_check(uint16_t port_id, uint16_t burst, int64_t iterations)
{
	fe_clear_error();
	if (burst == 0 || burst > FE_BENCH_MAX_BURST || iterations < 0)
		return fe_fail(-EINVAL, "bench: burst %u (1 to %d), iterations %" PRId64, burst, FE_BENCH_MAX_BURST,
			iterations);
	if (!rte_eth_dev_is_valid_port(port_id))
		return fe_fail(-ENODEV, "port %u does not exist", port_id);
	return 0;
}

FE_EXPORT int64_t fe_bench_rx_free_loop(uint16_t port_id, uint16_t queue_id, uint16_t burst, int64_t iterations,
	uint8_t describe)
{
	struct rte_mbuf *bufs[FE_BENCH_MAX_BURST];
	struct fe_rx_desc descs[FE_BENCH_MAX_BURST];
	int64_t frames = 0;
	uint16_t held = 0;
	int rc = bench_check(port_id, burst, iterations);

	if (rc != 0)
		return rc;
	if (describe) {
		for (int64_t i = 0; i < iterations; i++) {
			held = rx_burst(port_id, queue_id, bufs, held, descs, burst);
			frames += held;
		}
		if (held != 0)
			rte_pktmbuf_free_bulk(bufs, held);
	} else {
		for (int64_t i = 0; i < iterations; i++) {
			uint16_t n = rte_eth_rx_burst(port_id, queue_id, bufs, burst);
			if (n != 0)
				rte_pktmbuf_free_bulk(bufs, n);
			frames += n;
		}
	}
	return frames;
}

FE_EXPORT int64_t fe_bench_rx_tx_loop(uint16_t port_id, uint16_t queue_id, uint16_t burst, int64_t iterations)
{
	struct rte_mbuf *bufs[FE_BENCH_MAX_BURST];
	struct fe_rx_desc descs[FE_BENCH_MAX_BURST];
	int64_t frames = 0;
	int rc = bench_check(port_id, burst, iterations);

	if (rc != 0)
		return rc;
	for (int64_t i = 0; i < iterations; i++)
		frames += tx_burst(port_id, queue_id, bufs, rx_burst(port_id, queue_id, bufs, 0, descs, burst), 1);
	return frames;
}
#endif
