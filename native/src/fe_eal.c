/* Copyright (c) FlowEngine contributors. Licensed under the MIT License. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "fe_shim.h"
#include "fe_internal.h"

#define FE_MAX_ARGS 128

static int s_initialised;

FE_EXPORT int32_t fe_eal_init(int32_t argc, const char *const *argv)
{
	char *args[FE_MAX_ARGS + 1];
	cpu_set_t affinity;
	int have_affinity;
	int ret;

	fe_clear_error();
	if (__atomic_load_n(&s_initialised, __ATOMIC_ACQUIRE))
		return fe_fail(-EALREADY, "EAL is already initialised in this process (it can be initialised once)");
	if (argc < 1 || argc > FE_MAX_ARGS || argv == NULL)
		return fe_fail(-EINVAL, "EAL arguments: expected 1 to %d arguments, program name first, got %d",
			FE_MAX_ARGS, argc);
	/* rte_eal_init may permute argv; it gets a copy of the pointers, the strings stay the caller's. */
	for (int i = 0; i < argc; i++)
		args[i] = (char *)argv[i];
	args[argc] = NULL;

	/* EAL pins the calling thread to the main lcore; the caller is a managed thread that must stay free. */
	have_affinity = pthread_getaffinity_np(pthread_self(), sizeof(affinity), &affinity) == 0;
	ret = rte_eal_init(argc, args);
	if (have_affinity)
		pthread_setaffinity_np(pthread_self(), sizeof(affinity), &affinity);
	if (ret < 0) {
		int err = rte_errno > 0 ? rte_errno : EINVAL;
		return fe_fail(-err, "rte_eal_init failed (see the EAL messages on stderr)");
	}
	__atomic_store_n(&s_initialised, 1, __ATOMIC_RELEASE);
	return ret;
}

FE_EXPORT int32_t fe_eal_cleanup(void)
{
	int ret;

	fe_clear_error();
	ret = rte_eal_cleanup();
	if (ret < 0)
		return fe_fail(ret, "rte_eal_cleanup failed");
	return 0;
}

FE_EXPORT int32_t fe_thread_register(void)
{
	fe_clear_error();
	if (rte_lcore_id() != LCORE_ID_ANY)
		return (int32_t)rte_lcore_id();
	if (rte_thread_register() != 0) {
		int err = rte_errno > 0 ? rte_errno : EINVAL;
		return fe_fail(-err, "rte_thread_register failed (no free lcore id?)");
	}
	return (int32_t)rte_lcore_id();
}

FE_EXPORT void fe_thread_unregister(void)
{
	if (rte_lcore_id() != LCORE_ID_ANY && rte_lcore_id() != rte_get_main_lcore())
		rte_thread_unregister();
}

FE_EXPORT int32_t fe_lcore_id(void)
{
	unsigned int id = rte_lcore_id();

	return id == LCORE_ID_ANY ? -1 : (int32_t)id;
}

FE_EXPORT int32_t fe_socket_count(void)
{
	return (int32_t)rte_socket_count();
}

FE_EXPORT int32_t fe_socket_id_get(int32_t idx)
{
	fe_clear_error();
	if (idx < 0 || (unsigned int)idx >= rte_socket_count())
		return fe_fail(-EINVAL, "socket index %d out of range", idx);
	return rte_socket_id_by_idx((unsigned int)idx);
}
