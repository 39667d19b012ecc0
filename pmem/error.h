/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * error.h - how pmem/ reports errors.
 *
 * Every int function returns 0 or a negative errno (liburing's rule), and
 * prints nothing.  Callers that want to tell a user *why* pass a struct
 * dl_err: the function fills in one sentence that names the rule it
 * enforced ("size 1001 MiB is not a multiple of align 2 MiB"), never just
 * "Invalid argument".  err may be NULL everywhere.
 */
#ifndef DAXLEASE_PMEM_ERROR_H
#define DAXLEASE_PMEM_ERROR_H

#define DL_ERR_MSG_MAX 256

struct dl_err {
	int errnum;			/* positive errno, 0 if no error */
	char msg[DL_ERR_MSG_MAX];	/* one sentence, no trailing newline */
};

/* Record errnum and a message in err (if not NULL); returns -errnum. */
int dl_err_set(struct dl_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Clear err (if not NULL). */
void dl_err_clear(struct dl_err *err);

/*
 * Format a byte count as the largest binary unit that divides it exactly:
 * 1000 MiB, 2 MiB, 4 KiB, 1536 B.  Used in every size message so the user
 * sees the numbers in the units they typed.  Returns buf.
 */
char *dl_fmt_size(char *buf, unsigned long n, unsigned long long bytes);

/*
 * Parse a size with an optional binary suffix (K, M, G, T, P; with or
 * without "iB"/"B"; any case).  Decimal integers only: "1.5G", "-1",
 * " 1" and "0x10" are -EINVAL; more than 2^64-1 bytes is -ERANGE.
 * Returns 0 or -EINVAL / -ERANGE; *out is written only on success.
 */
int dl_parse_size(const char *s, unsigned long long *out);

#endif
