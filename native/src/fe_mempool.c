/* Copyright (c) FlowEngine contributors. Licensed under the MIT License. */
#include <errno.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "fe_shim.h"
#include "fe_internal.h"

FE_EXPORT int32_t fe_mempool_create(const char *name, uint32_t mbufs, uint32_t cache_size, uint16_t data_room,
	int32_t socket_id, void **out)
{
	struct rte_mempool *pool;

	fe_clear_error();
	if (name == NULL || out == NULL || mbufs == 0)
		return fe_fail(-EINVAL, "mempool: name, output and a non-zero buffer count are required");
	*out = NULL;
	if (cache_size > RTE_MEMPOOL_CACHE_MAX_SIZE)
		cache_size = RTE_MEMPOOL_CACHE_MAX_SIZE;
	if (data_room == 0)
		data_room = RTE_MBUF_DEFAULT_BUF_SIZE;
	if (data_room <= RTE_PKTMBUF_HEADROOM)
		return fe_fail(-EINVAL, "mempool %s: data room %u leaves no room after the %u-byte headroom", name,
			data_room, RTE_PKTMBUF_HEADROOM);
	pool = rte_pktmbuf_pool_create(name, mbufs, cache_size, 0, data_room,
		socket_id < 0 ? SOCKET_ID_ANY : socket_id);
	if (pool == NULL) {
		int err = rte_errno > 0 ? rte_errno : ENOMEM;
		return fe_fail(-err, "rte_pktmbuf_pool_create(%s, %u buffers of %u bytes, socket %d) failed", name, mbufs,
			data_room, socket_id);
	}
	*out = pool;
	return 0;
}

FE_EXPORT void fe_mempool_free(void *pool)
{
	rte_mempool_free(pool);
}

FE_EXPORT int32_t fe_mempool_avail(void *pool)
{
	if (pool == NULL)
		return fe_fail(-EINVAL, "mempool is null");
	return (int32_t)rte_mempool_avail_count(pool);
}
