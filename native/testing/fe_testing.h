/* Copyright (c) FlowEngine contributors. Licensed under the MIT License. */
/*
 * flowshim_testing: what only FlowEngine's tests and benchmarks call, kept out of the shipped libflowshim.so: ring
 * ports loaded with frames from memory, a replay that needs no capture device. Built by the same 'make -C native'
 * as build/libflowshim_testing.so, against DPDK (and the net_ring PMD) only; never packed. The ports it creates are
 * ordinary ethdev ports: configure, start, receive and send on them through the shim.
 *
 * Conventions are the shim's (fe_shim.h): 0 on success, a negative errno on failure, with the message in
 * fe_testing_last_error() (thread-local, this library's own: the shim's fe_last_error does not see it).
 */
#ifndef FE_TESTING_H
#define FE_TESTING_H

#include <stdint.h>

#include "fe_shim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Last error message of the calling thread from a function of this library ("" when none). */
FE_EXPORT const char *fe_testing_last_error(void);

/*
 * Ring ports (net_ring): an ethdev whose one RX queue and one TX queue are the same rte_ring (single producer,
 * single consumer, exactly capacity entries), created as port "net_ring_<name>" (name: 1 to 22 characters).
 * fe_tx_burst on it enqueues the buffers without copying or freeing them; fe_rx_burst dequeues them again, in
 * order: a replay that recycles its buffers. Timestamps: configured with rx_timestamp, a ring port reports the
 * nanoseconds fe_mbuf_load wrote; otherwise the host clock. Creating one registers the mbuf timestamp field, so
 * that the shim finds it when the port is configured and started.
 */
FE_EXPORT int32_t fe_ring_port_create(const char *name, uint32_t capacity, int32_t socket_id, uint16_t *port_id);
/* Stops and detaches the port, returns the buffers still in the ring to their pools and frees the ring. */
FE_EXPORT int32_t fe_ring_port_destroy(const char *name);
/*
 * Setup, not the hot path: allocates count buffers from pool into mbufs and copies frame i (lengths[i] bytes,
 * taken in turn from data) into buffer i as one segment; with timestamps_ns, stamps buffer i with
 * timestamps_ns[i] in the mbuf timestamp field and sets the RX timestamp flag. All or nothing: -ENOBUFS when the
 * pool is short, -EMSGSIZE when a frame exceeds a buffer's room.
 */
FE_EXPORT int32_t fe_mbuf_load(void *pool, const uint8_t *data, const uint32_t *lengths, const int64_t *timestamps_ns,
	uint32_t count, void **mbufs);

#ifdef __cplusplus
}
#endif

#endif
