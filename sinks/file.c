/* SPDX-License-Identifier: Apache-2.0 */
/*
 * file.c - the stdout and file: sinks (JSON lines).
 *
 * Each worker appends lines to its own batch buffer; nothing is shared on
 * the per-line path. st_sink_flush() writes the worker's whole batch with
 * the sink's mutex held, looping over partial writes, so a line is never
 * split or interleaved with another worker's, even on a pipe. The mutex is
 * taken once per batch, not per line.
 *
 * A line is "accepted" once it is in a batch buffer; the collector acks
 * informs only after the flush of that batch returned ACCEPTED, so an ack
 * always means the line reached the file (the page cache; we do not fsync
 * per batch: a crashed machine can lose what the kernel had not written,
 * which is the same promise every log file makes).
 *
 * Files are opened O_APPEND|O_CREAT with the configured mode (0640 by
 * default: lines carry communities and user names), which the process
 * umask may narrow further; an existing file keeps its mode. st_sink_reopen() (SIGHUP)
 * opens the path anew and swaps the descriptor under the mutex, so
 * logrotate's rename-then-HUP loses nothing.
 *
 * A process killed in the middle of a write (kill -9, an OOM kill) can
 * leave the file ending in part of a line. Appending after it would glue
 * the next notification onto that fragment and make one invalid line, so
 * every open looks at the last byte of a regular file first: if it is not
 * a newline, the fragment is cut off (it was never acknowledged: informs
 * are acked only after their batch's write returned), counted
 * (torn_lines) and logged once. A reopen does this under the mutex that
 * writers hold for a batch, so a batch being written is never taken for a
 * torn line.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sink_impl.h"

typedef struct st_file_worker {
	char *buf;
	size_t len;
	size_t lines; /* lines in buf */
	st_counter_t accepted;
	st_counter_t written;
	st_counter_t dropped;
	st_counter_t errors;
} __attribute__((aligned(64))) st_file_worker_t;

typedef struct st_file_sink {
	char *path; /* NULL: stdout */
	int fd;
	unsigned mode;        /* of a file we create */
	pthread_mutex_t lock; /* fd and the write of one batch */
	size_t cap;
	_Atomic int healthy; /* last write succeeded */
	st_counter_t torn;   /* partial last lines cut at open */
	st_file_worker_t *w;
} st_file_sink_t;

static int file_open(const char *path, unsigned mode, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, (mode_t)mode);

	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "output 'file:%s': %s", path, strerror(e));
		return -e;
	}
	return fd;
}

/*
 * Cut a partial last line off a regular file (see the top of this file).
 * Returns the bytes cut, 0 when the file ends in a newline (or is empty,
 * or not a regular file, or not readable by us), or -errno.
 */
static long long tail_repair(int fd, const char *path)
{
	char buf[4096];
	struct stat st;
	off_t end, pos;
	int rfd;
	long long cut = 0;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		return 0;
	rfd = open(path, O_RDONLY | O_CLOEXEC);
	if (rfd < 0)
		return 0;
	end = st.st_size;
	pos = end;
	while (pos > 0) {
		size_t n = pos < (off_t)sizeof(buf) ? (size_t)pos : sizeof(buf);
		ssize_t got = pread(rfd, buf, n, pos - (off_t)n);
		ssize_t i;

		if (got != (ssize_t)n) {
			cut = -(errno ? errno : EIO);
			goto out;
		}
		for (i = got - 1; i >= 0 && buf[i] != '\n'; i--)
			;
		if (i >= 0) {
			pos = pos - (off_t)n + i + 1;
			break;
		}
		pos -= (off_t)n;
	}
	if (pos < end) {
		cut = (long long)(end - pos);
		if (ftruncate(fd, pos) < 0)
			cut = -errno;
	}
out:
	close(rfd);
	return cut;
}

/* open for appending, then repair a torn tail (counted and logged) */
static int file_open_repaired(st_sink_t *sink, st_file_sink_t *fs, char *err, size_t errlen)
{
	int fd = file_open(fs->path, fs->mode, err, errlen);
	long long cut;

	if (fd < 0)
		return fd;
	cut = tail_repair(fd, fs->path);
	if (cut > 0) {
		st_counter_add(&fs->torn, 1);
		st_sink_log(sink, ST_LOG_WARN,
		            "the file ended in a partial line of %lld bytes, left by a crash; "
		            "cut it off so that every line parses",
		            cut);
	} else if (cut < 0) {
		st_sink_log(sink, ST_LOG_WARN,
		            "cannot check the end of the file for a partial line: %s",
		            strerror((int)-cut));
	}
	return fd;
}

/* write all of buf; 0 or -errno */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int file_write_locked(st_file_sink_t *fs, const char *a, size_t alen, const char *b,
                             size_t blen)
{
	int rc;

	pthread_mutex_lock(&fs->lock);
	rc = write_all(fs->fd, a, alen);
	if (rc == 0 && blen)
		rc = write_all(fs->fd, b, blen);
	pthread_mutex_unlock(&fs->lock);
	atomic_store_explicit(&fs->healthy, rc == 0, memory_order_relaxed);
	return rc;
}

static st_sink_result_t file_flush(st_sink_t *sink, unsigned worker)
{
	st_file_sink_t *fs = sink->impl;
	st_file_worker_t *w = &fs->w[worker];
	st_sink_result_t res = ST_SINK_ACCEPTED;

	if (w->len == 0)
		return res;
	if (file_write_locked(fs, w->buf, w->len, NULL, 0) < 0) {
		st_counter_add(&w->dropped, w->lines);
		st_counter_add(&w->errors, 1);
		res = ST_SINK_DROPPED;
	} else {
		st_counter_add(&w->written, w->lines);
	}
	w->len = 0;
	w->lines = 0;
	return res;
}

static st_sink_result_t file_write(st_sink_t *sink, unsigned worker, const st_sink_rec_t *rec)
{
	st_file_sink_t *fs = sink->impl;
	st_file_worker_t *w = &fs->w[worker];

	if (w->len + rec->len > fs->cap) {
		/* make room: write what is batched, together with this line
		 * when it does not fit an empty buffer either */
		int rc;

		if (rec->len > fs->cap) {
			rc = file_write_locked(fs, w->buf, w->len, rec->line, rec->len);
			if (rc < 0) {
				st_counter_add(&w->dropped, w->lines + 1);
				st_counter_add(&w->errors, 1);
				w->len = w->lines = 0;
				return ST_SINK_DROPPED;
			}
			st_counter_add(&w->written, w->lines + 1);
			st_counter_add(&w->accepted, 1);
			w->len = w->lines = 0;
			return ST_SINK_ACCEPTED;
		}
		if (file_flush(sink, worker) != ST_SINK_ACCEPTED) {
			/* the batch was lost and counted; this line may still go */
		}
	}
	memcpy(w->buf + w->len, rec->line, rec->len);
	w->len += rec->len;
	w->lines++;
	st_counter_add(&w->accepted, 1);
	return ST_SINK_ACCEPTED;
}

static int file_reopen(st_sink_t *sink)
{
	st_file_sink_t *fs = sink->impl;
	char err[256];
	int fd, old;

	if (!fs->path)
		return 0;
	/* under the lock: when the path still names the file our workers
	 * write (a reload, no rotation), a batch being written would look
	 * like a torn line and be cut */
	pthread_mutex_lock(&fs->lock);
	fd = file_open_repaired(sink, fs, err, sizeof(err));
	if (fd < 0) {
		pthread_mutex_unlock(&fs->lock);
		return fd;
	}
	old = fs->fd;
	fs->fd = fd;
	pthread_mutex_unlock(&fs->lock);
	close(old);
	return 0;
}

static int file_ready(const st_sink_t *sink)
{
	const st_file_sink_t *fs = sink->impl;

	return atomic_load_explicit(&((st_file_sink_t *)fs)->healthy, memory_order_relaxed);
}

static int file_close(st_sink_t *sink, int timeout_ms)
{
	st_file_sink_t *fs = sink->impl;
	int rc = 0;

	for (unsigned i = 0; i < sink->nworkers; i++)
		if (file_flush(sink, i) != ST_SINK_ACCEPTED)
			rc = -EIO;
	if (fs->path && fs->fd >= 0 && fsync(fs->fd) < 0 && errno != EINVAL)
		rc = -errno;
	return rc;
}

static void file_stats(const st_sink_t *sink, st_sink_stats_t *stats)
{
	const st_file_sink_t *fs = sink->impl;

	for (unsigned i = 0; i < sink->nworkers; i++) {
		const st_file_worker_t *w = &fs->w[i];

		stats->accepted += st_counter_get(&w->accepted);
		stats->written += st_counter_get(&w->written);
		stats->dropped += st_counter_get(&w->dropped);
		stats->errors += st_counter_get(&w->errors);
	}
	stats->torn_lines = st_counter_get(&fs->torn);
}

static void file_free(st_sink_t *sink)
{
	st_file_sink_t *fs = sink->impl;

	if (!fs)
		return;
	if (fs->w)
		for (unsigned i = 0; i < sink->nworkers; i++)
			free(fs->w[i].buf);
	free(fs->w);
	if (fs->path && fs->fd >= 0)
		close(fs->fd);
	pthread_mutex_destroy(&fs->lock);
	free(fs->path);
	free(fs);
	sink->impl = NULL;
}

static const struct st_sink_ops file_ops = {
        .kind = "file",
        .write = file_write,
        .flush = file_flush,
        .reopen = file_reopen,
        .ready = file_ready,
        .close = file_close,
        .stats = file_stats,
        .free = file_free,
};

static const struct st_sink_ops stdout_ops = {
        .kind = "stdout",
        .write = file_write,
        .flush = file_flush,
        .ready = file_ready,
        .close = file_close,
        .stats = file_stats,
        .free = file_free,
};

int st_sink_file_new(const char *uri, const char *path, const st_sink_conf_t *conf, st_sink_t *sink,
                     char *err, size_t errlen)
{
	st_file_sink_t *fs = calloc(1, sizeof(*fs));
	int rc = -ENOMEM;

	if (!fs)
		return -ENOMEM;
	sink->impl = fs;
	sink->ops = path ? &file_ops : &stdout_ops;
	pthread_mutex_init(&fs->lock, NULL);
	fs->fd = 1;
	fs->cap = conf->batch_bytes ? conf->batch_bytes : 256 * 1024;
	fs->mode = conf->file_mode ? conf->file_mode : ST_SINK_FILE_MODE;
	atomic_init(&fs->healthy, 1);
	if (path) {
		if (!*path) {
			snprintf(err, errlen, "output '%s': empty file path", uri);
			rc = -EINVAL;
			goto out;
		}
		fs->path = strdup(path);
		if (!fs->path)
			goto out;
		fs->fd = file_open_repaired(sink, fs, err, errlen);
		if (fs->fd < 0) {
			rc = fs->fd;
			goto out;
		}
	}
	fs->w = aligned_alloc(64, sizeof(*fs->w) * conf->nworkers);
	if (!fs->w)
		goto out;
	memset(fs->w, 0, sizeof(*fs->w) * conf->nworkers);
	for (unsigned i = 0; i < conf->nworkers; i++) {
		fs->w[i].buf = malloc(fs->cap);
		if (!fs->w[i].buf)
			goto out;
	}
	return 0;
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "output '%s': out of memory", uri);
	file_free(sink);
	return rc;
}

int st_sink_file_check(const char *uri, const char *path, st_sink_report_fn report, void *arg)
{
	char dir[4096], why[512];
	const char *slash = strrchr(path, '/');

	if (!*path) {
		st_sink_reportf(report, arg, "output '%s': empty file path", uri);
		return 1;
	}
	if (access(path, F_OK) == 0) {
		/* what start does, minus the creation: append to it */
		int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		st_sink_reportf(report, arg, "output '%s': not writable: %s", uri, strerror(errno));
		return 1;
	}
	/* the file is created at start: its directory must exist and take it */
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (st_sink_dir_writable(dir, 0, why, sizeof(why)) == 0)
		return 0;
	st_sink_reportf(report, arg, "output '%s': directory '%s' %s", uri, dir, why);
	return 1;
}
