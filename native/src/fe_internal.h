/* Copyright (c) FlowEngine contributors. Licensed under the MIT License. */
#ifndef FE_INTERNAL_H
#define FE_INTERNAL_H

#include <stdint.h>

/*
 * Records a message for the calling thread and returns rc (a negative errno); fe_error_message returns it ("" when
 * none). Each library that compiles fe_error.c keeps its own message and exports it under its own name: the shim
 * as fe_last_error, the testing library (native/testing) as fe_testing_last_error.
 */
int32_t fe_fail(int32_t rc, const char *format, ...) __attribute__((format(printf, 2, 3)));
void fe_clear_error(void);
const char *fe_error_message(void);

/* Timestamp dynamic field of mbufs, registered when a port asks for driver timestamps (-1: none). */
extern int fe_timestamp_offset;
extern uint64_t fe_timestamp_flag;
/*
 * Nanoseconds per driver timestamp unit, per port; 0 where the unit is unknown (DPDK leaves the unit and epoch
 * to the driver: net_pcap reports microseconds since the Unix epoch, NICs report raw clock ticks).
 */
extern uint32_t fe_timestamp_scale[];
/* Sets fe_timestamp_offset and fe_timestamp_flag once the timestamp field and flag are registered. */
void fe_timestamp_lookup(void);

#endif
