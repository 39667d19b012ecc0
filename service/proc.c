// SPDX-License-Identifier: BSD-3-Clause
/* proc.c - procfs facts about a process; see proc.h.  procfs never
 * blocks, so the loop may ask. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

/* Read /proc/<pid>/<what> (or an absolute path) into buf; its length. */
static ssize_t read_proc(pid_t pid, const char *what, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	else
		snprintf(path, sizeof(path), "%s", what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return n;
}

int dl_proc_start_time(pid_t pid, uint64_t *out)
{
	char buf[1024], *p;
	ssize_t n = read_proc(pid, "stat", buf, sizeof(buf));
	int field = 2;	/* comm's: the next space starts field 3 */

	if (n < 0)
		return (int)n;
	/* "pid (comm) state ...": comm may hold anything, even ") " */
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	for (p++; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (field != 22)
		return -EINVAL;
	*out = strtoull(p, NULL, 10);
	return 0;
}

int dl_proc_uid(pid_t pid, uid_t *out)
{
	char buf[4096], *p;
	ssize_t n = read_proc(pid, "status", buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	p = strstr(buf, "\nUid:");
	if (!p)
		return -EINVAL;
	*out = (uid_t)strtoul(p + 5, NULL, 10);
	return 0;
}

void dl_proc_comm(pid_t pid, char *out, size_t size)
{
	ssize_t n = read_proc(pid, "comm", out, size);

	if (n <= 0) {
		snprintf(out, size, "?");
		return;
	}
	/* the kernel's newline ends it; one inside is the process's own
	 * (log lines escape it, log.c) */
	if (out[n - 1] == '\n')
		out[n - 1] = 0;
}

static int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' :
	       c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int dl_proc_boot_id(uint8_t out[16])
{
	char buf[64];
	ssize_t n = read_proc(0, "/proc/sys/kernel/random/boot_id", buf,
			      sizeof(buf));
	int k = 0;

	if (n < 0)
		return (int)n;
	for (const char *p = buf; *p && k < 32; p++) {
		int v = hex(*p);

		if (v < 0)
			continue;	/* the dashes */
		if (k % 2)
			out[k / 2] |= (uint8_t)v;
		else
			out[k / 2] = (uint8_t)(v << 4);
		k++;
	}
	return k == 32 ? 0 : -EINVAL;
}
