/* Copyright (c) FlowEngine contributors. Licensed under the MIT License. */
/*
 * flowshim: plain exported functions over what DPDK 22.11 offers only as static inline functions or macros
 * (rte_eth_rx_burst, rte_eth_tx_burst, rte_pktmbuf_free_bulk, rte_pktmbuf_mtod), plus the initialisation
 * sequence of examples/skeleton/basicfwd.c with errors returned instead of rte_exit.
 *
 * Conventions: functions are fe_<noun>_<verb>; they return 0 (or a count) on success and a negative errno on
 * failure, with a readable message in fe_last_error() (thread-local). Burst functions allocate nothing.
 * Every struct here is mirrored field for field in src/Interop/Native; fe_abi_sizeof/fe_abi_offsetof let a test
 * compare the two layouts.
 */
#ifndef FE_SHIM_H
#define FE_SHIM_H

#include <stdint.h>

#define FE_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
extern "C" {
#endif

/* Flags of struct fe_rx_desc. */
#define FE_RX_MULTISEG 0x1u /* the frame continues in further segments: data_len < pkt_len */

/*
 * One received frame: only what the managed reader uses (an RSS hash, for one, is not: RSS only spreads flows
 * over queues, and each queue's worker hashes its own keys).
 *   0        8               16       20   22   24
 *   +--------+---------------+--------+----+----+
 *   | data   | timestamp_ns  |pkt_len |dlen|flgs|
 *   +--------+---------------+--------+----+----+
 */
struct fe_rx_desc {
	uint64_t data;         /* address of the first byte of the frame (rte_pktmbuf_mtod) */
	int64_t timestamp_ns;  /* nanoseconds since the Unix epoch: the driver's when it stamps, else the host clock */
	uint32_t pkt_len;      /* bytes of the whole frame */
	uint16_t data_len;     /* bytes in the first segment */
	uint16_t flags;        /* FE_RX_* */
};

/* Port settings for fe_port_configure. */
struct fe_port_config {
	uint16_t rx_queues;      /* 1..RTE_MAX_QUEUES_PER_PORT */
	uint16_t tx_queues;      /* 0..RTE_MAX_QUEUES_PER_PORT */
	uint16_t rx_descriptors; /* 0: 1024, adjusted to the device's limits */
	uint16_t tx_descriptors; /* 0: 1024, adjusted to the device's limits */
	uint16_t mtu;            /* 0: keep the device's MTU */
	uint8_t promiscuous;     /* 1: enable promiscuous mode (failure is ignored for devices without it) */
	uint8_t rss;             /* 1: RSS over IP/TCP/UDP with a symmetric key (when the device supports it) */
	uint8_t rx_timestamp;    /* 1: request driver timestamps (when the device supports it) */
	uint8_t padding0;
	uint8_t padding1;
	uint8_t padding2;
};

/* Port counters (rte_eth_stats without the per-queue arrays). */
struct fe_port_stats {
	uint64_t ipackets;
	uint64_t opackets;
	uint64_t ibytes;
	uint64_t obytes;
	uint64_t imissed;
	uint64_t ierrors;
	uint64_t oerrors;
	uint64_t rx_nombuf;
};

/* Link status. */
struct fe_link {
	uint32_t speed_mbps; /* 0 when unknown */
	uint8_t up;
	uint8_t full_duplex;
	uint8_t autoneg;
	uint8_t padding;
};

/* Kinds for fe_abi_sizeof and fe_abi_offsetof. */
enum fe_abi_kind {
	FE_ABI_RX_DESC = 1,
	FE_ABI_PORT_CONFIG = 2,
	FE_ABI_PORT_STATS = 3,
	FE_ABI_LINK = 4,
};

/* ABI self-description: sizeof(kind), or -1 for an unknown kind. */
FE_EXPORT int32_t fe_abi_sizeof(int32_t kind);
/* Offset of the field-th field (declaration order, from 0) of kind, or -1. */
FE_EXPORT int32_t fe_abi_offsetof(int32_t kind, int32_t field);
/* The DPDK version the shim was built against, e.g. "DPDK 22.11.11". */
FE_EXPORT const char *fe_version_get(void);

/* Last error message of the calling thread ("" when none). */
FE_EXPORT const char *fe_last_error(void);

/*
 * EAL. fe_eal_init takes a full argument vector (argv[0] is the program name) and returns the number of
 * arguments EAL consumed. It restores the calling thread's CPU affinity afterwards, so a managed thread is not
 * left pinned to the main lcore. -EALREADY when EAL is already initialised in this process.
 */
FE_EXPORT int32_t fe_eal_init(int32_t argc, const char *const *argv);
FE_EXPORT int32_t fe_eal_cleanup(void);
/* Makes the calling thread a DPDK (non-EAL) lcore: returns its lcore id or a negative errno. */
FE_EXPORT int32_t fe_thread_register(void);
FE_EXPORT void fe_thread_unregister(void);
/* lcore id of the calling thread, or -1 (LCORE_ID_ANY) for an unregistered thread. */
FE_EXPORT int32_t fe_lcore_id(void);
/* NUMA sockets known to EAL, and the id of the idx-th. */
FE_EXPORT int32_t fe_socket_count(void);
FE_EXPORT int32_t fe_socket_id_get(int32_t idx);

/* Packet buffer pool on socket_id (-1: any); *out receives the pool. */
FE_EXPORT int32_t fe_mempool_create(const char *name, uint32_t mbufs, uint32_t cache_size, uint16_t data_room,
	int32_t socket_id, void **out);
FE_EXPORT void fe_mempool_free(void *pool);
/* Buffers currently in the pool (not handed out). */
FE_EXPORT int32_t fe_mempool_avail(void *pool);

/* Virtual devices (hotplug): name is e.g. "net_pcap0", args e.g. "rx_pcap=/tmp/a.pcap". */
FE_EXPORT int32_t fe_vdev_attach(const char *name, const char *args, uint16_t *port_id);
FE_EXPORT int32_t fe_vdev_detach(const char *name);

/* Ports. */
FE_EXPORT int32_t fe_port_count(void);
FE_EXPORT int32_t fe_port_find(const char *name, uint16_t *port_id);
FE_EXPORT int32_t fe_port_socket_id(uint16_t port_id);
FE_EXPORT int32_t fe_port_configure(uint16_t port_id, const struct fe_port_config *config, void *pool);
FE_EXPORT int32_t fe_port_start(uint16_t port_id);
FE_EXPORT int32_t fe_port_stop(uint16_t port_id);
FE_EXPORT int32_t fe_port_close(uint16_t port_id);
FE_EXPORT int32_t fe_port_stats_get(uint16_t port_id, struct fe_port_stats *stats);
FE_EXPORT int32_t fe_port_stats_reset(uint16_t port_id);
FE_EXPORT int32_t fe_port_queue_ipackets(uint16_t port_id, uint16_t queue_id, uint64_t *packets);
FE_EXPORT int32_t fe_port_link_get(uint16_t port_id, struct fe_link *link);

/*
 * One native call per burst: returns the first nb_free buffers of mbufs to their pools (the previous burst, done
 * with), then receives up to count frames from one queue into the same array: mbufs[i] receives the buffer (owned
 * by the caller until it is passed back here as nb_free, freed with fe_mbuf_free_bulk or sent with fe_tx_burst),
 * descs[i] its description. Returns the number received. Allocates nothing; one clock read per burst at most.
 */
FE_EXPORT int32_t fe_rx_burst(uint16_t port_id, uint16_t queue_id, void **mbufs, uint16_t nb_free,
	struct fe_rx_desc *descs, uint16_t count);
/*
 * Sends up to count buffers; returns how many the device took. With free_unsent, the rest go back to their pools
 * in the same call; without, they stay owned by the caller.
 */
FE_EXPORT int32_t fe_tx_burst(uint16_t port_id, uint16_t queue_id, void **mbufs, uint16_t count, uint8_t free_unsent);
/* Returns count buffers to their pools. */
FE_EXPORT void fe_mbuf_free_bulk(void **mbufs, uint32_t count);

#ifdef FE_BENCH
/* Benchmark baselines, only in build/libflowshim_bench.so (built with -DFE_BENCH; not shipped). */
/*
 * Benchmark baseline: the receive loop of a C application, in C. Runs iterations bursts of up to burst frames
 * (1..FE_BENCH_MAX_BURST) on one queue, each freed in bulk before the next; with describe, each burst goes
 * through fe_rx_burst's own code (free folded in, descriptors written) instead of plain rte_eth_rx_burst and
 * rte_pktmbuf_free_bulk. Returns the frames received, or a negative errno.
 */
#define FE_BENCH_MAX_BURST 256
FE_EXPORT int64_t fe_bench_rx_free_loop(uint16_t port_id, uint16_t queue_id, uint16_t burst, int64_t iterations,
	uint8_t describe);
/*
 * Benchmark baseline of a ring port's replay: iterations bursts received through fe_rx_burst's own code
 * (descriptors written, nothing to free) and sent back on the same port and queue number, in C. Returns the
 * frames sent back (frames not taken are freed), or a negative errno.
 */
FE_EXPORT int64_t fe_bench_rx_tx_loop(uint16_t port_id, uint16_t queue_id, uint16_t burst, int64_t iterations);
#endif

#ifdef __cplusplus
}
#endif

#endif
