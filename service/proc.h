/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * proc.h - what procfs says about a process: who it is (pid and start
 * time), its name, its uid, and the boot they belong to.
 *
 * A pid alone names a process only while it lives; with its start time
 * (clock ticks after boot, /proc/PID/stat field 22) and the boot id it
 * names one process for good - what a pin record must hold, since it is
 * read back by a daemon that may start long after the pinner did.
 */
#ifndef DAXLEASED_PROC_H
#define DAXLEASED_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* 0, or -errno (-ENOENT: no such process). */
int dl_proc_start_time(pid_t pid, uint64_t *out);
int dl_proc_uid(pid_t pid, uid_t *out);
/* The process's name (what it set: a claim, not a fact), or "?". */
void dl_proc_comm(pid_t pid, char *out, size_t size);
/* This boot's id (/proc/sys/kernel/random/boot_id); 0 or -errno. */
int dl_proc_boot_id(uint8_t out[16]);

#endif
