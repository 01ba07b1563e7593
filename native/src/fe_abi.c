/* Copyright (c) FlowEngine contributors. Licensed under the MIT License. */
#include <stddef.h>

#include <rte_version.h>

#include "fe_shim.h"
#include "fe_internal.h"

_Static_assert(sizeof(struct fe_rx_desc) == 24, "fe_rx_desc is mirrored in C#");
_Static_assert(sizeof(struct fe_port_config) == 16, "fe_port_config is mirrored in C#");
_Static_assert(sizeof(struct fe_port_stats) == 64, "fe_port_stats is mirrored in C#");
_Static_assert(sizeof(struct fe_link) == 8, "fe_link is mirrored in C#");
_Static_assert(offsetof(struct fe_rx_desc, pkt_len) == 16 && offsetof(struct fe_rx_desc, data_len) == 20 &&
	offsetof(struct fe_rx_desc, flags) == 22, "fe_rx_desc is mirrored in C#");

#define FE_COUNT(a) ((int32_t)(sizeof(a) / sizeof((a)[0])))

static const int32_t rx_desc_offsets[] = {
	offsetof(struct fe_rx_desc, data), offsetof(struct fe_rx_desc, timestamp_ns),
	offsetof(struct fe_rx_desc, pkt_len), offsetof(struct fe_rx_desc, data_len),
	offsetof(struct fe_rx_desc, flags),
};
static const int32_t port_config_offsets[] = {
	offsetof(struct fe_port_config, rx_queues), offsetof(struct fe_port_config, tx_queues),
	offsetof(struct fe_port_config, rx_descriptors), offsetof(struct fe_port_config, tx_descriptors),
	offsetof(struct fe_port_config, mtu), offsetof(struct fe_port_config, promiscuous),
	offsetof(struct fe_port_config, rss), offsetof(struct fe_port_config, rx_timestamp),
	offsetof(struct fe_port_config, padding0), offsetof(struct fe_port_config, padding1),
	offsetof(struct fe_port_config, padding2),
};
static const int32_t port_stats_offsets[] = {
	offsetof(struct fe_port_stats, ipackets), offsetof(struct fe_port_stats, opackets),
	offsetof(struct fe_port_stats, ibytes), offsetof(struct fe_port_stats, obytes),
	offsetof(struct fe_port_stats, imissed), offsetof(struct fe_port_stats, ierrors),
	offsetof(struct fe_port_stats, oerrors), offsetof(struct fe_port_stats, rx_nombuf),
};
static const int32_t link_offsets[] = {
	offsetof(struct fe_link, speed_mbps), offsetof(struct fe_link, up),
	offsetof(struct fe_link, full_duplex), offsetof(struct fe_link, autoneg),
	offsetof(struct fe_link, padding),
};

FE_EXPORT int32_t fe_abi_sizeof(int32_t kind)
{
	switch (kind) {
	case FE_ABI_RX_DESC:
		return sizeof(struct fe_rx_desc);
	case FE_ABI_PORT_CONFIG:
		return sizeof(struct fe_port_config);
	case FE_ABI_PORT_STATS:
		return sizeof(struct fe_port_stats);
	case FE_ABI_LINK:
		return sizeof(struct fe_link);
	default:
		return -1;
	}
}

FE_EXPORT int32_t fe_abi_offsetof(int32_t kind, int32_t field)
{
	const int32_t *offsets;
	int32_t n;

	switch (kind) {
	case FE_ABI_RX_DESC:
		offsets = rx_desc_offsets;
		n = FE_COUNT(rx_desc_offsets);
		break;
	case FE_ABI_PORT_CONFIG:
		offsets = port_config_offsets;
		n = FE_COUNT(port_config_offsets);
		break;
	case FE_ABI_PORT_STATS:
		offsets = port_stats_offsets;
		n = FE_COUNT(port_stats_offsets);
		break;
	case FE_ABI_LINK:
		offsets = link_offsets;
		n = FE_COUNT(link_offsets);
		break;
	default:
		return -1;
	}
	return field >= 0 && field < n ? offsets[field] : -1;
}

FE_EXPORT const char *fe_version_get(void)
{
	return rte_version();
}

FE_EXPORT const char *fe_last_error(void)
{
	return fe_error_message();
}
