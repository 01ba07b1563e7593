/* Copyright (c) FlowEngine contributors. Licensed under the MIT License. */
#include "fe_testing.h"
#include "fe_internal.h"

FE_EXPORT const char *fe_testing_last_error(void)
{
	return fe_error_message();
}
