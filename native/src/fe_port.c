/* Copyright (c) FlowEngine contributors. Licensed under the MIT License. */
#include <errno.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf_dyn.h>

#include "fe_shim.h"
#include "fe_internal.h"

#define FE_DEFAULT_DESCRIPTORS 1024
#define FE_RSS_KEY_MAX 64

int fe_timestamp_offset = -1;
uint64_t fe_timestamp_flag;
uint32_t fe_timestamp_scale[RTE_MAX_ETHPORTS];

static uint8_t s_promiscuous[RTE_MAX_ETHPORTS];

static int32_t check_port(uint16_t port_id)
{
	if (!rte_eth_dev_is_valid_port(port_id))
		return fe_fail(-ENODEV, "port %u does not exist", port_id);
	return 0;
}

/* Looks up the timestamp field a driver registered; drivers register it at configure or start. */
void fe_timestamp_lookup(void)
{
	int offset = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
	int bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);

	if (offset >= 0 && bit >= 0) {
		fe_timestamp_offset = offset;
		__atomic_store_n(&fe_timestamp_flag, UINT64_C(1) << bit, __ATOMIC_RELEASE);
	}
}

FE_EXPORT int32_t fe_vdev_attach(const char *name, const char *args, uint16_t *port_id)
{
	int ret;

	fe_clear_error();
	if (name == NULL || port_id == NULL)
		return fe_fail(-EINVAL, "vdev: name and port output are required");
	ret = rte_eal_hotplug_add("vdev", name, args == NULL ? "" : args);
	if (ret < 0)
		return fe_fail(ret, "attaching virtual device %s (%s) failed", name, args == NULL ? "" : args);
	ret = rte_eth_dev_get_port_by_name(name, port_id);
	if (ret < 0) {
		rte_eal_hotplug_remove("vdev", name);
		return fe_fail(ret, "virtual device %s was attached but has no ethdev port", name);
	}
	return 0;
}

FE_EXPORT int32_t fe_vdev_detach(const char *name)
{
	int ret;

	fe_clear_error();
	if (name == NULL)
		return fe_fail(-EINVAL, "vdev: name is required");
	ret = rte_eal_hotplug_remove("vdev", name);
	if (ret < 0)
		return fe_fail(ret, "detaching virtual device %s failed", name);
	return 0;
}

FE_EXPORT int32_t fe_port_count(void)
{
	return (int32_t)rte_eth_dev_count_avail();
}

FE_EXPORT int32_t fe_port_find(const char *name, uint16_t *port_id)
{
	int ret;

	fe_clear_error();
	if (name == NULL || port_id == NULL)
		return fe_fail(-EINVAL, "port: name and output are required");
	ret = rte_eth_dev_get_port_by_name(name, port_id);
	if (ret < 0)
		return fe_fail(-ENODEV, "no DPDK port named %s (%u ports available)", name, rte_eth_dev_count_avail());
	return 0;
}

FE_EXPORT int32_t fe_port_socket_id(uint16_t port_id)
{
	int ret = check_port(port_id);

	return ret < 0 ? ret : rte_eth_dev_socket_id(port_id);
}

FE_EXPORT int32_t fe_port_configure(uint16_t port_id, const struct fe_port_config *config, void *pool)
{
	static const uint8_t symmetric_pair[2] = { 0x6d, 0x5a };
	uint8_t rss_key[FE_RSS_KEY_MAX];
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	struct rte_eth_rxconf rxconf;
	struct rte_eth_txconf txconf;
	uint16_t nb_rxd, nb_txd;
	int socket;
	int ret;

	fe_clear_error();
	if (config == NULL || pool == NULL)
		return fe_fail(-EINVAL, "port %u: configuration and mempool are required", port_id);
	ret = check_port(port_id);
	if (ret < 0)
		return ret;
	ret = rte_eth_dev_info_get(port_id, &info);
	if (ret != 0)
		return fe_fail(ret, "port %u: rte_eth_dev_info_get failed", port_id);
	if (config->rx_queues == 0 || config->rx_queues > info.max_rx_queues)
		return fe_fail(-EINVAL, "port %u (%s): %u RX queues requested, the device has 1 to %u", port_id,
			info.driver_name, config->rx_queues, info.max_rx_queues);
	if (config->tx_queues > info.max_tx_queues)
		return fe_fail(-EINVAL, "port %u (%s): %u TX queues requested, the device has at most %u", port_id,
			info.driver_name, config->tx_queues, info.max_tx_queues);

	memset(&conf, 0, sizeof(conf));
	if (config->rss && config->rx_queues > 1 && info.flow_type_rss_offloads != 0) {
		/* A key of one repeated 16-bit pattern hashes (a, b) and (b, a) alike: both directions of a flow
		 * reach the same queue, so one worker owns the whole flow. */
		uint8_t key_len = info.hash_key_size != 0 && info.hash_key_size <= FE_RSS_KEY_MAX ? info.hash_key_size : 40;
		for (uint8_t i = 0; i < key_len; i++)
			rss_key[i] = symmetric_pair[i & 1];
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = key_len;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
	}
	if (config->rx_timestamp && (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP))
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
	if (config->mtu != 0)
		conf.rxmode.mtu = config->mtu;
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;

	ret = rte_eth_dev_configure(port_id, config->rx_queues, config->tx_queues, &conf);
	if (ret != 0)
		return fe_fail(ret, "port %u (%s): rte_eth_dev_configure(%u RX, %u TX queues) failed", port_id,
			info.driver_name, config->rx_queues, config->tx_queues);
	nb_rxd = config->rx_descriptors != 0 ? config->rx_descriptors : FE_DEFAULT_DESCRIPTORS;
	nb_txd = config->tx_descriptors != 0 ? config->tx_descriptors : FE_DEFAULT_DESCRIPTORS;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
	if (ret != 0)
		return fe_fail(ret, "port %u: rte_eth_dev_adjust_nb_rx_tx_desc failed", port_id);

	socket = rte_eth_dev_socket_id(port_id);
	rxconf = info.default_rxconf;
	rxconf.offloads = conf.rxmode.offloads;
	for (uint16_t q = 0; q < config->rx_queues; q++) {
		ret = rte_eth_rx_queue_setup(port_id, q, nb_rxd, socket, &rxconf, pool);
		if (ret < 0)
			return fe_fail(ret, "port %u: rte_eth_rx_queue_setup(queue %u, %u descriptors) failed", port_id, q,
				nb_rxd);
	}
	txconf = info.default_txconf;
	txconf.offloads = conf.txmode.offloads;
	for (uint16_t q = 0; q < config->tx_queues; q++) {
		ret = rte_eth_tx_queue_setup(port_id, q, nb_txd, socket, &txconf);
		if (ret < 0)
			return fe_fail(ret, "port %u: rte_eth_tx_queue_setup(queue %u, %u descriptors) failed", port_id, q,
				nb_txd);
	}
	if (config->mtu != 0) {
		ret = rte_eth_dev_set_mtu(port_id, config->mtu);
		if (ret != 0 && ret != -ENOTSUP)
			return fe_fail(ret, "port %u: setting MTU %u failed", port_id, config->mtu);
	}
	s_promiscuous[port_id] = config->promiscuous;
	fe_timestamp_scale[port_id] = 0;
	/* net_pcap stamps every frame with its capture time without advertising the offload. */
	if (config->rx_timestamp && strcmp(info.driver_name, "net_pcap") == 0)
		fe_timestamp_scale[port_id] = 1000;
	/* net_ring passes buffers through untouched: a timestamp is the one their producer wrote, in nanoseconds. */
	if (config->rx_timestamp && strcmp(info.driver_name, "net_ring") == 0)
		fe_timestamp_scale[port_id] = 1;
	fe_timestamp_lookup();
	return 0;
}

FE_EXPORT int32_t fe_port_start(uint16_t port_id)
{
	int ret;

	fe_clear_error();
	ret = check_port(port_id);
	if (ret < 0)
		return ret;
	ret = rte_eth_dev_start(port_id);
	if (ret < 0)
		return fe_fail(ret, "port %u: rte_eth_dev_start failed", port_id);
	if (s_promiscuous[port_id]) {
		/* Virtual devices without the notion report -ENOTSUP; the port still works. */
		ret = rte_eth_promiscuous_enable(port_id);
		if (ret != 0 && ret != -ENOTSUP) {
			rte_eth_dev_stop(port_id);
			return fe_fail(ret, "port %u: enabling promiscuous mode failed", port_id);
		}
	}
	fe_timestamp_lookup();
	return 0;
}

FE_EXPORT int32_t fe_port_stop(uint16_t port_id)
{
	int ret;

	fe_clear_error();
	ret = check_port(port_id);
	if (ret < 0)
		return ret;
	ret = rte_eth_dev_stop(port_id);
	if (ret < 0)
		return fe_fail(ret, "port %u: rte_eth_dev_stop failed", port_id);
	return 0;
}

FE_EXPORT int32_t fe_port_close(uint16_t port_id)
{
	int ret;

	fe_clear_error();
	ret = check_port(port_id);
	if (ret < 0)
		return ret;
	ret = rte_eth_dev_close(port_id);
	if (ret < 0)
		return fe_fail(ret, "port %u: rte_eth_dev_close failed", port_id);
	return 0;
}

FE_EXPORT int32_t fe_port_stats_get(uint16_t port_id, struct fe_port_stats *stats)
{
	struct rte_eth_stats s;
	int ret;

	fe_clear_error();
	if (stats == NULL)
		return fe_fail(-EINVAL, "port %u: stats output is required", port_id);
	ret = rte_eth_stats_get(port_id, &s);
	if (ret != 0)
		return fe_fail(ret, "port %u: rte_eth_stats_get failed", port_id);
	stats->ipackets = s.ipackets;
	stats->opackets = s.opackets;
	stats->ibytes = s.ibytes;
	stats->obytes = s.obytes;
	stats->imissed = s.imissed;
	stats->ierrors = s.ierrors;
	stats->oerrors = s.oerrors;
	stats->rx_nombuf = s.rx_nombuf;
	return 0;
}

FE_EXPORT int32_t fe_port_stats_reset(uint16_t port_id)
{
	int ret;

	fe_clear_error();
	ret = rte_eth_stats_reset(port_id);
	if (ret != 0)
		return fe_fail(ret, "port %u: rte_eth_stats_reset failed", port_id);
	return 0;
}

FE_EXPORT int32_t fe_port_queue_ipackets(uint16_t port_id, uint16_t queue_id, uint64_t *packets)
{
	struct rte_eth_stats s;
	int ret;

	fe_clear_error();
	if (packets == NULL || queue_id >= RTE_ETHDEV_QUEUE_STAT_CNTRS)
		return fe_fail(-EINVAL, "port %u: queue %u has no counter (limit %d)", port_id, queue_id,
			RTE_ETHDEV_QUEUE_STAT_CNTRS);
	ret = rte_eth_stats_get(port_id, &s);
	if (ret != 0)
		return fe_fail(ret, "port %u: rte_eth_stats_get failed", port_id);
	*packets = s.q_ipackets[queue_id];
	return 0;
}

FE_EXPORT int32_t fe_port_link_get(uint16_t port_id, struct fe_link *link)
{
	struct rte_eth_link l;
	int ret;

	fe_clear_error();
	if (link == NULL)
		return fe_fail(-EINVAL, "port %u: link output is required", port_id);
	ret = rte_eth_link_get_nowait(port_id, &l);
	if (ret != 0)
		return fe_fail(ret, "port %u: rte_eth_link_get_nowait failed", port_id);
	link->speed_mbps = l.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : l.link_speed;
	link->up = l.link_status == RTE_ETH_LINK_UP;
	link->full_duplex = l.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
	link->autoneg = l.link_autoneg == RTE_ETH_LINK_AUTONEG;
	link->padding = 0;
	return 0;
}
