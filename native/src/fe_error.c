/* Copyright (c) FlowEngine contributors. Licensed under the MIT License. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fe_internal.h"

static __thread char t_message[512];

int32_t fe_fail(int32_t rc, const char *format, ...)
{
	va_list args;
	int n;

	va_start(args, format);
	n = vsnprintf(t_message, sizeof(t_message), format, args);
	va_end(args);
	if (n >= 0 && (size_t)n < sizeof(t_message) - 4 && rc < 0)
		snprintf(t_message + n, sizeof(t_message) - (size_t)n, ": %s", strerror(-rc));
	return rc;
}

void fe_clear_error(void)
{
	t_message[0] = '\0';
}

const char *fe_error_message(void)
{
	return t_message;
}
